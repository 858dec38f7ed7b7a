from spo_backup.mariadb import restore_lines, select_tables

DUMP = b"""-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;

--
-- Table structure for table `admin`
--

CREATE TABLE `admin` (`usere` text);

--
-- Dumping data for table `admin`
--

INSERT INTO `admin` VALUES ('x\\n-- Table structure for table `pasien`');
--
-- Table structure for table `pasien`
--

CREATE TABLE `pasien` (`no_rkm_medis` varchar(15));
INSERT INTO `pasien` VALUES ('000001');
DELIMITER ;;
/*!50003 CREATE TRIGGER t BEFORE INSERT ON `pasien` FOR EACH ROW SET @a = 1 */;;
DELIMITER ;

--
-- Table structure for table `we``ird`
--

CREATE TABLE `we``ird` (a int);

--
-- Dumping routines for database 'sik'
--

CREATE PROCEDURE p() SELECT 1;
-- Dump completed on 2025-01-01
"""


def _run(wanted, chunk=7):
    chunks = [DUMP[i : i + chunk] for i in range(0, len(DUMP), chunk)]
    return b"".join(select_tables(chunks, wanted))


def test_partial_restore_keeps_header_and_only_the_chosen_tables() -> None:
    out = _run({b"pasien", b"we`ird"})
    assert out.startswith(b"-- MariaDB dump 10.19\n/*!40101 SET NAMES utf8mb4 */;")
    assert b"CREATE TABLE `pasien`" in out and b"CREATE TRIGGER t" in out
    assert b"CREATE TABLE `we``ird`" in out
    assert b"admin" not in out and b"PROCEDURE" not in out


def test_section_text_inside_data_does_not_switch_tables() -> None:
    out = _run({b"admin"}, chunk=3)
    assert b"INSERT INTO `admin`" in out
    assert b"CREATE TABLE `pasien`" not in out


LOCKED = b"""CREATE TABLE `pasien` (`id` int);
LOCK TABLES `pasien` WRITE;
/*!40000 ALTER TABLE `pasien` DISABLE KEYS */;
INSERT INTO `pasien` VALUES (1);
/*!40000 ALTER TABLE `pasien` ENABLE KEYS */;
UNLOCK TABLES;
INSERT INTO `pasien` VALUES ('LOCK TABLES in a value');
"""


def test_parts_loaded_side_by_side_lose_only_the_table_locks():
    side = b"".join(restore_lines([LOCKED], set(), side_by_side=True))
    assert b"LOCK TABLES `pasien` WRITE;" not in side and b"UNLOCK TABLES;" not in side
    assert side.count(b"INSERT INTO") == 2 and b"'LOCK TABLES in a value'" in side
    assert b"".join(restore_lines([LOCKED], set(), side_by_side=False)) == LOCKED

"""Word lists the benchmark databases are generated from: Indonesian-style names, addresses,
complaints, diagnoses, drugs and lab tests, picked at random per row by the servers.

Real hospital data repeats a limited vocabulary in endless combinations, so a dump of it
compresses well but not absurdly; pgbench's blank filler or one repeated string would flatter
every compressor.
"""


def _split(text: str) -> list[str]:
    """Long lists of single words, written as text; ``_`` joins a two-word name."""
    return [word.replace("_", " ") for word in text.split()]


FIRST_NAMES = _split("""
Ahmad Budi Siti Dewi Agus Sri Rina Wahyu Eko Dwi Tri Joko Putri Nur Muhammad Andi
Yusuf Fitri Indah Rudi Hendra Bambang Sutrisno Suharti Wulan Ayu Rizki Fajar Nurul Retno Yanti
Slamet Teguh Ratna Lestari Kartika Bayu Hadi Imam Lukman Maya Novi Ika Dian Arif Fauzi Hasan
Ibrahim Kurnia Mega Nanda Oki Pratiwi Rahmat Sari Taufik Umar Vina Wati Yudi Zainal Agung Bagus
Citra Dimas Endang Fadli Gilang Hana Irfan Januar Kiki Laila Mulyadi Nining Puji Rosa Surya Tuti
Udin Yogi Anisa Bunga Cahya Desi Erni Galih Heru Iwan Jaya Komang Made Ketut Wayan Nyoman Putu
Gede Rahma Syahrul Halimah Zulkifli Aisyah Khairul Nurhayati Darmawan Rosmawati""")

LAST_NAMES = _split("""
Saputra Wijaya Santoso Pratama Hidayat Nugroho Susanto Setiawan Gunawan Kusuma
Rahayu Purnomo Siregar Nasution Harahap Lubis Simanjuntak Sitompul Panjaitan Hutapea Tanjung
Manurung Pohan Wibowo Hartono Sulistyo Firmansyah Ramadhan Permana Syahputra Hakim Maulana Fauzan
Utomo Prasetyo Suryadi Halim Sembiring Ginting Tarigan Sinaga Pardede Rangkuti Daulay Batubara
Sihombing Situmorang Matondang Anggraini Handayani Puspitasari Wulandari Kurniasih Astuti
Suryani Mahendra Adiputra Sugiarto Irawan Hasibuan Marpaung Simatupang Pane Ritonga""")

STREETS = [
    "Merdeka",
    "Jenderal Sudirman",
    "Diponegoro",
    "Gatot Subroto",
    "Ahmad Yani",
    "Imam Bonjol",
    "Gajah Mada",
    "Hayam Wuruk",
    "Pemuda",
    "Pahlawan",
    "Veteran",
    "Kartini",
    "Cut Nyak Dien",
    "Teuku Umar",
    "Sisingamangaraja",
    "M.H. Thamrin",
    "Ir. H. Juanda",
    "Sultan Hasanuddin",
    "Pattimura",
    "Sam Ratulangi",
    "Kenanga",
    "Melati",
    "Mawar",
    "Anggrek",
    "Flamboyan",
    "Cempaka",
    "Dahlia",
    "Kamboja",
    "Seroja",
    "Setia Budi",
    "Jamin Ginting",
    "Brigjen Katamso",
    "Iskandar Muda",
    "Gagak Hitam",
    "Karya Wisata",
    "Bunga Raya",
    "Pelita",
    "Kapten Muslim",
    "Halat",
    "Bilal",
    "Krakatau",
    "Perintis Kemerdekaan",
    "K.H. Wahid Hasyim",
    "Monginsidi",
    "Sutomo",
    "Tuasan",
    "Pancing",
    "Sei Padang",
    "Abdul Hakim",
    "Dr. Mansyur",
]

VILLAGES = _split("""
Babura Darat Merdeka Petisah_Tengah Sei_Sikambing Tanjung_Rejo Sei_Putih Dwikora
Sidorame Glugur_Darat Pulo_Brayan Kota_Matsum Sukaramai Tegal_Sari Teladan Mangga Suka_Maju
Titi_Kuning Gedung_Johor Kwala_Bekala Harjosari Bandar_Selamat Tembung Pasar_Merah Sei_Agul
Helvetia_Timur Cinta_Damai Lalang Sunggal Tanjung_Sari Padang_Bulan Simpang_Selayang
Sari_Rejo Polonia Sei_Mati Aur Kampung_Baru Pandau_Hulu""")

DISTRICTS = [
    "Medan Baru",
    "Medan Petisah",
    "Medan Sunggal",
    "Medan Helvetia",
    "Medan Tuntungan",
    "Medan Johor",
    "Medan Amplas",
    "Medan Denai",
    "Medan Area",
    "Medan Kota",
    "Medan Maimun",
    "Medan Polonia",
    "Medan Selayang",
    "Medan Tembung",
    "Medan Perjuangan",
    "Medan Timur",
    "Medan Barat",
    "Medan Deli",
    "Medan Labuhan",
    "Medan Marelan",
    "Percut Sei Tuan",
    "Deli Tua",
    "Tanjung Morawa",
    "Lubuk Pakam",
    "Binjai Kota",
]

CITIES = [
    "Medan",
    "Medan",
    "Medan",
    "Binjai",
    "Deli Serdang",
    "Deli Serdang",
    "Langkat",
    "Pematangsiantar",
    "Tebing Tinggi",
    "Serdang Bedagai",
    "Karo",
    "Jakarta Selatan",
    "Bandung",
    "Surabaya",
    "Yogyakarta",
    "Semarang",
    "Padang",
    "Pekanbaru",
    "Palembang",
    "Banda Aceh",
    "Makassar",
    "Denpasar",
    "Malang",
    "Bogor",
    "Tangerang",
    "Bekasi",
    "Surakarta",
    "Balikpapan",
    "Pontianak",
    "Manado",
]

BLOOD = ["A+", "B+", "AB+", "O+", "O+", "A+", "B+", "O+", "A-", "O-", "-"]

INSURERS = [
    "BPJS Kesehatan PBI",
    "BPJS Kesehatan PBI",
    "BPJS Kesehatan Non-PBI",
    "BPJS Kesehatan Non-PBI",
    "BPJS Kesehatan Non-PBI",
    "Umum",
    "Umum",
    "Asuransi Swasta",
    "Jamkesda",
    "BPJS Ketenagakerjaan",
    "Perusahaan Rekanan",
]

CLINICS = [
    "Poli Umum",
    "Poli Umum",
    "Poli Penyakit Dalam",
    "Poli Penyakit Dalam",
    "Poli Anak",
    "Poli Kebidanan dan Kandungan",
    "Poli Bedah Umum",
    "Poli Saraf",
    "Poli Jantung dan Pembuluh Darah",
    "Poli Paru",
    "Poli Mata",
    "Poli THT-KL",
    "Poli Kulit dan Kelamin",
    "Poli Gigi dan Mulut",
    "Poli Jiwa",
    "Poli Orthopedi",
    "Poli Urologi",
    "Instalasi Gawat Darurat",
    "Poli Rehabilitasi Medik",
    "Poli KIA",
    "Poli DOTS",
]

DEGREES = [
    ", Sp.PD",
    ", Sp.A",
    ", Sp.OG",
    ", Sp.B",
    ", Sp.N",
    ", Sp.JP",
    ", Sp.P",
    ", Sp.M",
    ", Sp.THT-KL",
    ", Sp.KK",
    "",
    "",
    "",
    ", M.Kes",
    ", Sp.OT",
    ", Sp.U",
    ", Sp.KJ",
]

DIAGNOSES = [  # ICD-10 code, name
    ("A09", "Diare dan gastroenteritis yang diduga infeksi"),
    ("A15.0", "Tuberkulosis paru, terkonfirmasi bakteriologis"),
    ("A90", "Demam dengue"),
    ("A91", "Demam berdarah dengue"),
    ("A01.0", "Demam tifoid"),
    ("B34.9", "Infeksi virus, tidak spesifik"),
    ("E11.9", "Diabetes melitus tipe 2 tanpa komplikasi"),
    ("E11.6", "Diabetes melitus tipe 2 dengan komplikasi lain"),
    ("E78.5", "Hiperlipidemia"),
    ("I10", "Hipertensi esensial (primer)"),
    ("I10", "Hipertensi esensial (primer)"),
    ("I11.9", "Penyakit jantung hipertensi tanpa gagal jantung"),
    ("I50.0", "Gagal jantung kongestif"),
    ("I63.9", "Infark serebral"),
    ("I25.1", "Penyakit jantung aterosklerotik"),
    ("J06.9", "Infeksi saluran pernapasan atas akut"),
    ("J06.9", "Infeksi saluran pernapasan atas akut"),
    ("J18.9", "Pneumonia, tidak spesifik"),
    ("J45.9", "Asma"),
    ("J44.9", "Penyakit paru obstruktif kronik"),
    ("K29.7", "Gastritis"),
    ("K30", "Dispepsia fungsional"),
    ("K35.8", "Apendisitis akut"),
    ("K80.2", "Batu kandung empedu tanpa kolesistitis"),
    ("N39.0", "Infeksi saluran kemih"),
    ("N18.5", "Penyakit ginjal kronik stadium 5"),
    ("O80", "Persalinan spontan tunggal"),
    ("O82", "Persalinan tunggal dengan seksio sesarea"),
    ("R50.9", "Demam, tidak spesifik"),
    ("R51", "Sakit kepala"),
    ("M54.5", "Nyeri punggung bawah"),
    ("M17.9", "Osteoartritis lutut"),
    ("H52.4", "Presbiopia"),
    ("H25.9", "Katarak senilis"),
    ("H10.9", "Konjungtivitis"),
    ("L30.9", "Dermatitis"),
    ("K02.9", "Karies gigi"),
    ("F32.9", "Episode depresi"),
    ("G43.9", "Migren"),
    ("S52.5", "Fraktur ujung bawah radius"),
    ("D64.9", "Anemia"),
    ("Z00.0", "Pemeriksaan kesehatan umum"),
    ("E86", "Dehidrasi"),
    ("I20.9", "Angina pektoris"),
    ("G40.9", "Epilepsi"),
    ("Z34.9", "Pengawasan kehamilan normal"),
]

SYMPTOMS = [
    "demam",
    "batuk berdahak",
    "batuk kering",
    "pilek",
    "sesak napas",
    "nyeri dada",
    "nyeri perut",
    "mual",
    "muntah",
    "diare",
    "pusing",
    "sakit kepala",
    "badan lemas",
    "nyeri sendi",
    "nyeri pinggang",
    "gatal-gatal",
    "ruam kulit",
    "mata merah",
    "penglihatan kabur",
    "telinga berdengung",
    "nyeri tenggorokan",
    "sulit tidur",
    "nafsu makan menurun",
    "berat badan turun",
    "bengkak pada kaki",
    "nyeri saat buang air kecil",
    "BAB berdarah",
    "kejang",
    "kesemutan",
    "jantung berdebar",
    "keringat malam",
    "sakit gigi",
    "luka tidak sembuh",
    "nyeri ulu hati",
    "perut kembung",
    "sering haus",
    "sering buang air kecil",
]

QUALIFIERS = [
    "hilang timbul",
    "terus menerus",
    "memberat malam hari",
    "terutama pagi hari",
    "setelah makan",
    "disertai menggigil",
    "tidak membaik dengan obat warung",
    "memberat saat aktivitas",
    "menjalar ke punggung",
    "dirasakan makin berat",
    "ringan",
    "berulang",
    "mendadak",
]

HISTORY = [
    "riwayat hipertensi",
    "riwayat DM tipe 2",
    "riwayat asma sejak kecil",
    "riwayat alergi obat disangkal",
    "riwayat operasi sebelumnya",
    "riwayat merokok 20 tahun",
    "riwayat keluarga dengan penyakit jantung",
    "kontrol rutin",
    "rujukan dari puskesmas",
    "rujukan dari klinik pratama",
]

NOTE_WORDS = _split("""
pasien tampak sakit sedang ringan berat kesadaran compos mentis tekanan darah nadi
kali per menit suhu napas vesikuler ronki wheezing tidak ada abdomen supel nyeri tekan
epigastrium ekstremitas hangat edema pupil isokor refleks cahaya positif negatif konjungtiva
anemis sklera ikterik jantung bunyi reguler murmur gallop paru kanan kiri terapi lanjut kontrol
minggu lagi edukasi diet rendah garam gula minum obat teratur istirahat cukup rawat jalan inap
observasi cek laboratorium ulang rontgen thorax EKG USG hasil dalam batas normal keluarga
menyetujui tindakan rencana konsul dokter spesialis bila keluhan memberat segera ke IGD dan
dengan pada untuk mmHg x/menit °C""")

PROCEDURES = [
    "Pemeriksaan fisik",
    "Pemeriksaan fisik",
    "Konsultasi",
    "Nebulisasi",
    "Pemasangan infus",
    "Perawatan luka",
    "Injeksi intramuskular",
    "Jahit luka",
    "EKG",
    "Rontgen thorax",
    "USG abdomen",
    "Pencabutan gigi",
    "Tambal gigi",
    "Pemasangan kateter urin",
    "Khitan",
    "Observasi",
    "Fisioterapi",
    "Konseling gizi",
]

VISIT_STATUS = ["Selesai"] * 8 + [
    "Dirujuk",
    "Rawat Inap",
    "Batal",
    "Pulang Atas Permintaan Sendiri",
]

DRUGS = [
    "Paracetamol 500 mg tablet",
    "Amoxicillin 500 mg kapsul",
    "Metformin 500 mg tablet",
    "Amlodipine 5 mg tablet",
    "Amlodipine 10 mg tablet",
    "Captopril 25 mg tablet",
    "Omeprazole 20 mg kapsul",
    "Ranitidine 150 mg tablet",
    "Antasida DOEN tablet kunyah",
    "Ibuprofen 400 mg tablet",
    "Asam mefenamat 500 mg tablet",
    "Cetirizine 10 mg tablet",
    "Klorfeniramin maleat 4 mg tablet",
    "Dexamethasone 0,5 mg tablet",
    "Salbutamol 2 mg tablet",
    "Ambroxol 30 mg tablet",
    "OBH sirup 100 ml",
    "Glibenclamide 5 mg tablet",
    "Simvastatin 20 mg tablet",
    "Allopurinol 100 mg tablet",
    "Ciprofloxacin 500 mg tablet",
    "Cefadroxil 500 mg kapsul",
    "Cefixime 100 mg kapsul",
    "Metronidazole 500 mg tablet",
    "Vitamin B kompleks tablet",
    "Asam folat 1 mg tablet",
    "Tablet tambah darah",
    "Oralit sachet",
    "Zinc 20 mg tablet dispersibel",
    "Domperidone 10 mg tablet",
    "Ondansetron 4 mg tablet",
    "Lansoprazole 30 mg kapsul",
    "Furosemide 40 mg tablet",
    "Bisoprolol 5 mg tablet",
    "Candesartan 8 mg tablet",
    "Insulin glargine 100 IU/ml pen",
    "Ceftriaxone 1 g injeksi",
    "Ringer laktat 500 ml infus",
    "NaCl 0,9% 500 ml infus",
    "Ketorolac 30 mg injeksi",
    "Natrium diklofenak 50 mg tablet",
    "Methylprednisolone 4 mg tablet",
    "Loratadine 10 mg tablet",
    "Salep gentamisin 0,1%",
    "Hydrocortisone krim 2,5%",
    "Tetes mata kloramfenikol 0,5%",
    "OAT FDC kategori 1",
    "Clopidogrel 75 mg tablet",
    "Asetosal 80 mg tablet",
    "Diazepam 2 mg tablet",
]

DOSES = [
    "1 tablet",
    "1 tablet",
    "2 tablet",
    "1/2 tablet",
    "1 kapsul",
    "5 ml",
    "10 ml",
    "1 sachet",
    "1 ampul",
    "1 flakon",
    "2 tetes",
    "secukupnya",
    "1 kolf",
]

DIRECTIONS = [
    "3 x 1 sesudah makan",
    "3 x 1 sesudah makan",
    "2 x 1 sesudah makan",
    "1 x 1 pagi hari",
    "1 x 1 malam hari",
    "3 x 1 sebelum makan",
    "2 x 1 sebelum makan",
    "bila perlu",
    "3 x 1 sendok takar",
    "4 x 1 tetes",
    "oleskan 2 x sehari",
    "1 x 1 sebelum tidur",
    "3 x 1 bila demam",
    "per 8 jam intravena",
    "1 x sehari subkutan 10 unit",
]

RX_NOTES = [
    "stok terbatas, diganti generik",
    "pasien alergi sulfa",
    "diserahkan ke keluarga",
    "iter 1x",
    "obat kronis 30 hari",
    "cek interaksi dengan warfarin",
    "racikan puyer",
    "dosis disesuaikan berat badan",
]

LAB_TESTS = [  # name, unit, reference low, reference high
    ("Hemoglobin", "g/dL", 12, 16),
    ("Leukosit", "10^3/uL", 4, 11),
    ("Trombosit", "10^3/uL", 150, 400),
    ("Hematokrit", "%", 37, 48),
    ("Eritrosit", "10^6/uL", 4.2, 5.4),
    ("Glukosa darah sewaktu", "mg/dL", 70, 140),
    ("Glukosa darah puasa", "mg/dL", 70, 100),
    ("HbA1c", "%", 4, 5.7),
    ("Kolesterol total", "mg/dL", 120, 200),
    ("Kolesterol HDL", "mg/dL", 40, 60),
    ("Kolesterol LDL", "mg/dL", 50, 130),
    ("Trigliserida", "mg/dL", 50, 150),
    ("Ureum", "mg/dL", 10, 50),
    ("Kreatinin", "mg/dL", 0.6, 1.2),
    ("Asam urat", "mg/dL", 3.4, 7),
    ("SGOT", "U/L", 5, 40),
    ("SGPT", "U/L", 5, 41),
    ("Bilirubin total", "mg/dL", 0.1, 1.2),
    ("Albumin", "g/dL", 3.5, 5),
    ("Natrium", "mmol/L", 135, 145),
    ("Kalium", "mmol/L", 3.5, 5),
    ("Klorida", "mmol/L", 98, 107),
    ("Laju endap darah", "mm/jam", 0, 20),
    ("C-reactive protein", "mg/L", 0, 5),
    ("Troponin I", "ng/mL", 0, 0.04),
    ("TSH", "uIU/mL", 0.4, 4),
    ("D-dimer", "ng/mL", 0, 500),
    ("Waktu protrombin", "detik", 11, 13.5),
]

LAB_NOTES = [
    "sampel hemolisis",
    "ulang besok pagi",
    "hasil kritis dilaporkan ke dokter jaga",
    "puasa 10 jam",
    "sampel lipemik",
    "konfirmasi ulang, hasil sesuai",
    "duplo sesuai",
]

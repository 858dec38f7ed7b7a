"""The ``spo-backup`` command that cron runs on each host; needs only the host and its config.

    spo-backup [--config F] run [--source S ...] [--kind K] [--triggered-by WHO] [--reason R]
                                [--to PATH]
    spo-backup [--config F] list [--json] | prune [--dry-run] [--source S ...] | digest [--dry-run]
    spo-backup [--config F] weekly | monthly | status [--json] [--notify]   (each: [--now TIME])
    spo-backup [--config F] mirror status [--json] [--notify] [--mirror-config F]
    spo-backup [--config F] drill [--source S ...] [--triggered-by WHO] [--json]
                                  [--target-host H] [--target-port N] [--target-socket PATH]
                                  [--target-user U]
    spo-backup mirror heartbeat [--mirror-config F]
    spo-backup [--config F] restore --source S --instructed-by WHO --by OPERATOR [--reason R]
                                    [--backup NAME] [--to-database D | --to-path P]
                                    [--table T ...] [--schema S ...] [--into-production]
                                    [--jobs N] [--json]
    spo-backup [--config F] diagnose [--source S ...] [--json]
    spo-backup [--config F] change --id ID --source S --sql-file F --sha256 H --by OPERATOR
                                   [--approved-by "ROLE: NAME" ...] [--json]
    spo-backup [--config F] databank verify [--unit NAME ...] [--json]
    spo-backup verify PATH

Exit status: 0 everything asked for succeeded, 1 something failed (the error line names it),
2 the command or its config is wrong. Logs go to stderr and to syslog (journald).
"""

import argparse
import json
import logging
import logging.handlers
import sys
from datetime import datetime
from pathlib import Path

from . import (
    VERSION,
    catalog,
    change_run,
    config,
    databank,
    diagnose,
    digest,
    drill,
    manifest,
    mirror,
    mirror_config,
    monthly,
    notify,
    offsite,
    places,
    restore_run,
    runner,
    status,
    verify,
    weekly,
)
from .errors import BackupError
from .session import Connection

log = logging.getLogger(__package__)
SYSLOG = Path("/dev/log")
FAILED, BROKEN = 1, 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging()
    try:
        if args.command == "verify":
            return _verify(args)
        if args.command == "mirror" and args.mirror_command == "heartbeat":
            return _mirror_heartbeat(args)  # needs no backup.json: it must never stop
        cfg = config.load(args.config)
        return COMMANDS[args.command](cfg, args)
    except BackupError as exc:
        log.error("%s", exc)
        return BROKEN


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spo-backup", description="Backups of this host's databases and program files."
    )
    parser.add_argument("--version", action="version", version=f"spo-backup {VERSION}")
    parser.add_argument(
        "--config", type=Path, default=config.DEFAULT_PATH, help="default: %(default)s"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="back up, verify, prune, copy offsite, record, notify")
    run.add_argument("--source", action="extend", nargs="+", default=[], help="only these")
    run.add_argument("--kind", choices=manifest.KINDS, default="automatic")
    run.add_argument("--triggered-by", default="command line", help="cron, ansible, a name")
    run.add_argument("--reason", default="", help="why, for the manifest and the history")
    run.add_argument(
        "--to",
        type=Path,
        help="write to this external disk or share instead (another device; never pruned)",
    )
    listing = sub.add_parser("list", help="backups here and at every offsite")
    listing.add_argument("--json", action="store_true", help="for machines")
    check = sub.add_parser("verify", help="check a backup's checksums and readability")
    check.add_argument("path", type=Path)
    prune = sub.add_parser("prune", help="apply the retention policy here and offsite")
    prune.add_argument("--dry-run", action="store_true", help="only say what would go")
    prune.add_argument("--source", action="extend", nargs="+", default=[], help="only these")
    summary = sub.add_parser("digest", help="send the daily digest of the last 24 hours")
    summary.add_argument("--dry-run", action="store_true", help="print it instead of sending")
    week = sub.add_parser("weekly", help="the weekly full backup, only inside its window")
    week.add_argument("--triggered-by", default="command line", help="cron, ansible, a name")
    month = sub.add_parser("monthly", help="copy last month's chosen backups (run daily)")
    state = sub.add_parser("status", help="last backup of each kind; overdue manual backups")
    state.add_argument("--json", action="store_true", help="for machines")
    state.add_argument("--notify", action="store_true", help="send a notice if one is overdue")
    _mirror_parser(sub)
    _drill_parser(sub)
    _restore_parser(sub)
    _databank_parser(sub)
    _change_parser(sub)
    check_up = sub.add_parser("diagnose", help="database damage, application damage or neither")
    check_up.add_argument("--source", action="extend", nargs="+", default=[], help="only these")
    check_up.add_argument("--json", action="store_true", help="for machines")
    for calendar_job in (week, month, state):
        calendar_job.add_argument(
            "--now",
            type=_moment,
            default=None,
            help="take this as the time (ISO 8601; without an offset: this host's time), "
            "for drills and tests",
        )
    return parser


def _mirror_parser(sub) -> None:
    group = sub.add_parser("mirror", help="the database mirror: status against the policy")
    actions = group.add_subparsers(dest="mirror_command", required=True)
    check = actions.add_parser("status", help="lag, WAL archive age, breaches; metrics")
    check.add_argument("--json", action="store_true", help="for machines")
    check.add_argument(
        "--notify", action="store_true", help="send a notice when a breach starts or ends"
    )
    beat = actions.add_parser("heartbeat", help="on the primary: write the time for the mirror")
    for action in (check, beat):
        action.add_argument(
            "--mirror-config",
            type=Path,
            default=mirror_config.DEFAULT_PATH,
            help="default: %(default)s",
        )


def _restore_parser(sub) -> None:
    back = sub.add_parser("restore", help="restore a source, on the head of SIRS's instruction")
    back.add_argument("--source", required=True)
    back.add_argument("--instructed-by", required=True, help="the head of SIRS (S3.7)")
    back.add_argument("--by", required=True, help="who runs it")
    back.add_argument("--reason", default="")
    back.add_argument("--backup", help="this backup folder; default the newest that verifies")
    into = back.add_mutually_exclusive_group()
    into.add_argument("--to-database", help="another database (created when missing)")
    into.add_argument("--to-path", type=Path, help="another folder, for program files")
    into.add_argument(
        "--into-production",
        action="store_true",
        help="replace the source's own database or folder, after a safety backup",
    )
    back.add_argument("--table", action="append", default=[], help="only this table; repeat")
    back.add_argument("--schema", action="append", default=[], help="only this schema; repeat")
    back.add_argument("--jobs", type=int, default=1)
    back.add_argument("--json", action="store_true", help="print the record as JSON")


def _change_parser(sub) -> None:
    alter = sub.add_parser("change", help="apply an approved data change (S3.9), backed up first")
    alter.add_argument("--id", required=True, help="the change request's id")
    alter.add_argument("--source", required=True, help="the database source it changes")
    alter.add_argument("--sql-file", type=Path, required=True, help="the approved script")
    alter.add_argument("--sha256", required=True, help="the script's approved sha256")
    alter.add_argument("--by", required=True, help="who runs it")
    alter.add_argument("--approved-by", action="append", default=[], help='"role: name"')
    alter.add_argument("--json", action="store_true", help="print the record as JSON")


def _databank_parser(sub) -> None:
    bank = sub.add_parser("databank", help="the units' central data bank: its integrity (S0.3)")
    actions = bank.add_subparsers(dest="databank_command", required=True)
    check = actions.add_parser(
        "verify", help="hash every file of each unit; report added, changed, suspect, deleted"
    )
    check.add_argument("--unit", action="extend", nargs="+", default=[], help="only these")
    check.add_argument("--json", action="store_true", help="print the records, for machines")


def _drill_parser(sub) -> None:
    test = sub.add_parser("drill", help="test-restore the newest backups, never into production")
    test.add_argument("--source", action="extend", nargs="+", default=[], help="only these")
    test.add_argument("--triggered-by", default="command line", help="cron, ansible, a name")
    test.add_argument("--json", action="store_true", help="print the records, for machines")
    server = test.add_argument_group(
        "target",
        "an existing drill server to restore into instead of a scratch instance; a drill "
        "into the production server is refused",
    )
    server.add_argument("--target-host", help="its host name or address")
    server.add_argument("--target-port", type=int, help="its port")
    server.add_argument("--target-socket", help="its unix socket (PostgreSQL: the directory)")
    server.add_argument("--target-user", help="default: postgres, or root for MariaDB")


def _moment(text: str):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-11-21T12:00:00+07:00"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def _now(args):
    return args.now or manifest.utc_now()


def setup_logging(syslog: Path = SYSLOG, level: int = logging.INFO) -> None:
    log.handlers.clear()
    log.setLevel(level)
    log.propagate = False
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("spo-backup: %(levelname)s: %(message)s"))
    log.addHandler(stderr)
    if syslog.is_socket():
        try:
            handler = logging.handlers.SysLogHandler(
                str(syslog), facility=logging.handlers.SysLogHandler.LOG_DAEMON
            )
        except OSError as exc:
            log.warning("syslog %s not usable, logging to stderr only: %s", syslog, exc)
        else:
            handler.setFormatter(logging.Formatter("spo-backup: %(levelname)s: %(message)s"))
            log.addHandler(handler)


def _run(cfg: config.Config, args) -> int:
    target = None
    if args.to:
        target = runner.Target(args.to.resolve(), None, removable=True)
    records = runner.run(cfg, args.source, args.kind, args.triggered_by, args.reason, target)
    failed = [r for r in records if r["result"] != "ok"]
    if failed:
        names = ", ".join(r["source"] for r in failed)
        log.error(
            "run FAILED for %d of %d source(s): %s (errors above)", len(failed), len(records), names
        )
        return FAILED
    return 0


def _verify(args) -> int:
    try:
        report = verify.check(args.path)
    except BackupError as exc:
        log.error("%s", exc)
        return FAILED
    print(f"{args.path}: verified, {len(report['files'])} file(s), all checksums match")
    return 0


def _list(cfg: config.Config, args) -> int:
    found = places.everywhere(cfg)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        for place in found:
            _print_place(place)
    return FAILED if any(p["error"] and not p["optional"] for p in found) else 0


def _print_place(place: dict) -> None:
    if place["error"]:
        state = "not there (plugged in when needed)" if place["optional"] else "NOT REACHABLE"
        print(f"{place['where']} {place['path']}: {state}: {place['error']}")
        return
    print(f"{place['where']} {place['path']}: {len(place['backups'])} backup(s)")
    for b in place["backups"]:
        state = "verified" if b["verified"] else "NOT verified"
        pin = f", pinned: {b['pinned']}" if b["pinned"] else ""
        when = notify.local_time(manifest.parse_time(b["time"]))
        print(f"  {b['name']}  {when}  {notify.human_size(b['bytes'])}  {state}{pin}")
    for name, why in place["unrecognised"].items():
        print(f"  ? {name}: not a backup, left alone: {why}")


def _prune(cfg: config.Config, args) -> int:
    names = {cfg.source(n).name for n in args.source} or {s.name for s in cfg.sources}
    status = 0
    places = [("local", cfg.backup_root, None)]
    places += [(f"offsite {o.name}", o.path, o) for o in cfg.offsite]
    for where, root, off in places:
        try:
            if off is not None:
                offsite.check(off)
            result = catalog.apply_prune(root, cfg.retention, sources=names, dry_run=args.dry_run)
        except BackupError as exc:
            log.error("%s: %s", where, exc)
            status = FAILED
            continue
        gone = result["would_remove" if args.dry_run else "removed"]
        verb = "would remove" if args.dry_run else "removed"
        print(f"{where} {root}: {verb} {len(gone)} backup(s)")
        for decision in result["decisions"]:
            if decision["source"] in names:
                print(
                    f"  {decision['action']:6} {decision['name']}: {'; '.join(decision['reasons'])}"
                )
        for name, why in result["skipped"].items():
            print(f"  ? {name}: not a backup, left alone: {why}")
    return status


def _digest(cfg: config.Config, args) -> int:
    notice = digest.build(cfg)
    if args.dry_run:
        for language in cfg.notify.languages:
            subject, body = notify.compose(cfg, notice, language)
            print(f"{subject}\n\n{body}\n")
        return 0
    attempts = notify.send(cfg, notice)
    runner.record_notices(cfg, attempts)
    return FAILED if any(not a["delivered"] for a in attempts) else 0


def _weekly(cfg: config.Config, args) -> int:
    try:
        record = weekly.run(cfg, _now(args), args.triggered_by)
    except weekly.WindowClosed as exc:
        log.error("%s", exc)
        return FAILED
    if record["overran_minutes"]:
        late = record["overran_minutes"]
        log.warning("the weekly full backup overran its window by %d min (kept)", late)
    return FAILED if record["result"] != "ok" else 0


def _monthly(cfg: config.Config, args) -> int:
    record = monthly.run(cfg, _now(args))
    for month, report in record["months"].items():
        for name, outcome in report["targets"].items():
            line = f"monthly copy {month} -> {name}: {outcome['result']}"
            print(line + (f": {outcome['error']}" if outcome.get("error") else ""))
    return 0 if record["result"] == "ok" else FAILED


def _status(cfg: config.Config, args) -> int:
    now = _now(args)
    report = status.build(cfg, now)
    if args.notify:
        report["notices"] = status.tell_overdue(cfg, report, now)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for source in report["sources"]:
        print(f"{source['source']} ({source['type']}):")
        for kind, last in source["last"].items():
            print(f"  {kind:<12} {last['time'] + '  ' + last['backup'] if last else 'never'}")
        copy = source["monthly_copy"]
        state = "never"
        if copy:
            state = f"{copy['month']} {'complete' if copy['completed'] else 'pending'}"
        print(f"  {'monthly':<12} {state}")
        if source["manual_overdue"]:
            print(f"  MANUAL BACKUP OVERDUE (policy: at most {report['manual_max_age_days']} days)")
    return 0


def _mirror(cfg: config.Config, args) -> int:
    mcfg = mirror_config.load(args.mirror_config)
    now = manifest.utc_now()
    report = mirror.status(cfg, mcfg, now)
    try:
        mirror.write_metrics(cfg, report)
    except OSError as exc:  # the check and its notice matter more than the textfile
        log.error("the mirror metrics beside %s cannot be written: %s", cfg.metrics_file, exc)
    if args.notify:
        report["notices"] = mirror.tell(cfg, report, now)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_mirror(report)
    return 0 if report["ok"] else FAILED


def _print_mirror(report: dict) -> None:
    verdict = "OK" if report["ok"] else "BREACH"
    policy = report["policy_seconds"]
    print(f"mirror on {report['host']} ({report['site']}): {verdict}, policy {policy} s")
    for engine in report["engines"]:
        role = engine["role"]
        if role == "mirror":
            lag = engine["lag_seconds"]
            shown = "unknown" if lag is None else f"{lag:.1f} s"
            line = f"mirror, {engine['state']}, lag {shown}, from {engine['upstream'] or '?'}"
        elif role == "primary":
            line = f"primary, {len(engine['replicas'])} replica(s) connected"
        else:
            line = "STOPPED"
        archive = engine.get("archive")
        if archive and archive["age_seconds"] is not None:
            line += f", newest archived WAL {archive['age_seconds']:.0f} s old"
        print(f"  {engine['engine']}: {line}")
        for breach in engine["breaches"]:
            print(f"    BREACH: {breach}")


def _restore(cfg: config.Config, args) -> int:
    request = restore_run.Request(
        source=args.source,
        instructed_by=args.instructed_by,
        by=args.by,
        reason=args.reason,
        backup=args.backup,
        to_database=args.to_database,
        to_path=args.to_path,
        tables=tuple(args.table),
        schemas=tuple(args.schema),
        into_production=args.into_production,
        jobs=args.jobs,
    )
    record = restore_run.run(cfg, request)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"restore {record['result']}: {record['backup']} -> {record['target']}")
        for check in record["checks"]:
            print(f"  {check['name']}: {check['detail']}")
    if record["error"]:
        log.error("%s", record["error"])
    return 0 if record["result"] == "ok" else FAILED


def _change(cfg: config.Config, args) -> int:
    request = change_run.Request(
        change_id=args.id,
        source=args.source,
        sql=args.sql_file.read_text(encoding="utf-8"),
        sql_sha256=args.sha256,
        by=args.by,
        approved_by=tuple(args.approved_by),
    )
    record = change_run.run(cfg, request)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"change {record['change_id']} {record['result']}: {record['rows_total']} row(s)")
    if record["error"]:
        log.error("%s", record["error"])
    return 0 if record["result"] == "ok" else FAILED


def _diagnose(cfg: config.Config, args) -> int:
    found = diagnose.run(cfg, args.source)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(f"{found['host']}: {found['verdict']}")
        for source in found["sources"]:
            print(f"  {source['source']}: {source['damage'] or 'ok'}")
            for problem in source["problems"]:
                print(f"    - {problem}")
        for line in found["recommended"] + [found["procedure"] or ""]:
            if line:
                print(f"  {line}")
    return 0 if found["verdict"] == diagnose.NEITHER else FAILED


def _mirror_heartbeat(args) -> int:
    mcfg = mirror_config.load(args.mirror_config)
    status = 0
    for done in mirror.heartbeat(mcfg, manifest.utc_now()):
        if done["error"]:
            log.error("%s", done["error"])  # it names the engine
            status = FAILED
        elif done["written"]:
            log.debug("%s: heartbeat %s written", done["engine"], done["beat"])
    return status


def _drill(cfg: config.Config, args) -> int:
    target = None
    if any((args.target_host, args.target_port, args.target_socket, args.target_user)):
        target = Connection(
            host=args.target_host,
            port=args.target_port,
            user=args.target_user,
            socket=args.target_socket,
        )
    records = drill.run(cfg, args.source, args.triggered_by, target)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for record in records:
            print(drill.summary(record))
    return 0 if all(r["result"] == "ok" for r in records) else FAILED


def _databank(cfg: config.Config, args) -> int:
    records = databank.verify(cfg, args.unit)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        for record in records:
            print(databank.summary(record))
            for suspect in record["suspect"]:
                print(f"  SUSPECT {databank.printable(suspect['path'])}: {suspect['why']}")
            if record["suspect_count"] > len(record["suspect"]):
                print(f"  ... and {record['suspect_count'] - len(record['suspect'])} more")
    return 0 if all(r["result"] == "ok" for r in records) else FAILED


COMMANDS = {
    "run": _run,
    "list": _list,
    "prune": _prune,
    "digest": _digest,
    "weekly": _weekly,
    "monthly": _monthly,
    "status": _status,
    "mirror": _mirror,
    "drill": _drill,
    "restore": _restore,
    "diagnose": _diagnose,
    "databank": _databank,
    "change": _change,
}

"""What the Ansible modules share: option specs (declared once here, documented once in
``plugins/doc_fragments/spo_backup.py``), the flow of a backup and of a restore module, and
the one place errors become ``fail_json``."""

from collections.abc import Callable
from pathlib import Path

from . import backup, config, destination, jobs, manifest
from .backup import Destination, Job
from .errors import BackupError, VerifyError
from .session import Connection


def connection_spec() -> dict:
    return {
        "login_host": {"type": "str"},
        "login_port": {"type": "int"},
        "login_user": {"type": "str"},
        "login_password": {"type": "str", "no_log": True},
        "login_unix_socket": {"type": "str"},
    }


def host_config_spec() -> dict:
    """The installed configuration, for modules that act as the host's own command."""
    return {"config": {"type": "path", "default": str(config.DEFAULT_PATH)}}


def destination_spec() -> dict:
    return {
        "backup_root": {"type": "path", "required": True},
        "mount_point": {"type": "bool", "default": False},
        "marker": {"type": "str", "default": destination.MARKER},
    }


def trigger_spec() -> dict:
    return {
        "kind": {"type": "str", "default": "automatic", "choices": list(manifest.KINDS)},
        "triggered_by": {"type": "str", "default": "ansible"},
        "reason": {"type": "str", "default": ""},
        "compression": {
            "type": "str",
            "default": "auto",
            "choices": ["auto", "zstd", "gzip", "none"],
        },
    }


def backup_spec() -> dict:
    return {"backup": {"type": "path", "required": True}}


def connection(params: dict) -> Connection:
    return Connection(
        host=params["login_host"],
        port=params["login_port"],
        user=params["login_user"],
        password=params["login_password"],
        socket=params["login_unix_socket"],
    )


def dest(params: dict) -> Destination:
    return Destination(Path(params["backup_root"]), params["mount_point"], params["marker"])


def run(module, action) -> None:
    """Call ``action()`` -> result dict; report engine errors once, as the operator reads them."""
    try:
        result = action()
    except VerifyError as exc:
        module.fail_json(msg=str(exc), problems=exc.problems)
    except BackupError as exc:
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    module.exit_json(**result)


def take_backup(module, make_job: Callable[[dict], Job], what: str) -> None:
    """A backup module once its options are parsed: check mode checks the destination and
    says where it would write; otherwise the backup runs and its manifest is returned."""
    params = module.params

    def action() -> dict:
        job = make_job(params)
        if module.check_mode:
            plan = backup.plan(dest(params), job)
            return {"changed": True, "msg": f"would {what} into {plan['would_write']}", **plan}
        return {"changed": True, **backup.run(dest(params), job)}

    run(module, action)


def take_restore(
    module,
    source_types: tuple[str, ...],
    target_of: Callable[[dict], str],
    restore_to: Callable[[Path, dict, str], dict],
    scope_of: Callable[[dict], str] = lambda _data: "everything",
) -> None:
    """A restore module once its options are parsed: verify the backup first (a damaged one
    is refused even in check mode), then say what would be restored where, or restore it."""
    folder = Path(module.params["backup"])

    def action() -> dict:
        data = jobs.load_verified(folder, source_types)
        target = target_of(data)
        if module.check_mode:
            return {
                "changed": True,
                "manifest": data,
                "target": target,
                "msg": f"would restore {scope_of(data)} of {folder.name} to {target} "
                f"(replace: {module.params['replace']})",
            }
        return {"changed": True, "manifest": data, **restore_to(folder, data, target)}

    run(module, action)

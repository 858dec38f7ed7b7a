"""What nas_mount leaves on a client: a live sshfs mount, NFS and SMB configuration."""


def fstab_line(host, mount_point):
    for line in host.file("/etc/fstab").content_string.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == mount_point:
            return fields
    raise AssertionError(f"no fstab line for {mount_point}")


def test_sshfs_share_is_mounted_from_the_storage_server(host):
    mount = host.mount_point("/mnt/nas")
    assert mount.exists
    assert mount.filesystem == "fuse.sshfs"
    assert mount.device == "spo-nas@spo-molecule-nas:/srv/nas/spo"


def test_mounted_share_carries_the_marker_and_takes_writes(host):
    marker = host.file("/mnt/nas/.spo-backup-destination")
    assert marker.exists and "lab-sshfs" in marker.content_string
    host.run_test("touch /mnt/nas/probe-from-test && rm /mnt/nas/probe-from-test")


def test_sshfs_key_is_private_and_only_speaks_sftp(host):
    key = host.file("/root/.ssh/spo_nas_ed25519")
    assert key.mode == 0o600
    # The key opens no shell on the storage server, only SFTP.
    shell = host.run(
        "ssh -i /root/.ssh/spo_nas_ed25519 -o BatchMode=yes spo-nas@spo-molecule-nas echo shell"
    )
    assert "shell" not in shell.stdout


def test_nfs_share_is_a_hard_network_mount_started_on_access(host):
    src, _, fstype, options = fstab_line(host, "/mnt/nfs")[:4]
    assert src == "nas01.rs.example:/volume1/backup" and fstype == "nfs4"
    for option in ("_netdev", "x-systemd.automount", "hard", "timeo=600", "nfsvers=4.1"):
        assert option in options.split(",")
    assert not host.mount_point("/mnt/nfs").exists, "state present writes fstab only"
    assert not host.file("/mnt/nfs/.spo-backup-destination").exists


def test_smb_credentials_are_in_a_root_only_file_not_in_fstab(host):
    src, _, fstype, options = fstab_line(host, "/mnt/smb")[:4]
    assert src == "//nas01.rs.example/backup" and fstype == "cifs"
    assert "credentials=/etc/spo/nas/rs-smb.cred" in options.split(",")
    assert "molecule-only-secret" not in host.file("/etc/fstab").content_string
    cred = host.file("/etc/spo/nas/rs-smb.cred")
    assert cred.mode == 0o600 and cred.user == "root"
    assert "password=molecule-only-secret" in cred.content_string
    assert "domain=RS" in cred.content_string

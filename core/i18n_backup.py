"""Translations (zh, en) for backup and restore; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
    "admin.backup": ("备份", "Backup"),
    "backup.help": (
        "备份文件包含整个数据库（所有客诉、事件、用户及密码哈希、通知设置）和全部附件，"
        "生成过程中系统可照常使用。请把备份文件存放到服务器以外的安全位置。",
        "A backup holds the whole database (every case, event, user with password hash, "
        "notification settings) and every attachment; the app stays usable while it is made. "
        "Keep the archives somewhere safe, away from this server."),
    "backup.make": ("立即备份", "Back up now"),
    "backup.running": ("正在备份数据库和附件……", "Backing up the database and attachments…"),
    "backup.done": ("备份完成：{name}（{size}；{complaints} 条客诉，{events} 条事件，"
                    "{attachments} 个附件）",
                    "Backup done: {name} ({size}; {complaints} complaints, {events} events, "
                    "{attachments} attachments)"),
    "backup.failed": ("备份失败。", "The backup failed."),
    "backup.failed_because": ("备份失败：{reason}", "The backup failed: {reason}"),
    "backup.missing": ("有 {count} 个附件在数据库中有记录，但在附件存储中缺失或已损坏，"
                       "未能写入备份：{names}",
                       "{count} attachment(s) recorded in the database are missing or damaged in "
                       "the store and are not in the backup: {names}"),
    "backup.list": ("已有备份", "Existing backups"),
    "backup.none": ("还没有备份。", "No backups yet."),
    "backup.download": ("下载", "Download"),
    "backup.file": ("{name} · {size} · {at}", "{name} · {size} · {at}"),
    "backup.restore_title": ("恢复", "Restore"),
    "backup.restore_unsafe": (
        "恢复不能在浏览器中进行：在运行中的系统上覆盖数据会丢失正在保存的内容，"
        "并让其他用户看到不一致的数据。"
        "请由服务器管理员在命令行恢复到一个空的数据目录，然后在该目录上启动系统。",
        "Restoring is not offered in the browser: overwriting the data of a running app would "
        "lose what people are saving and show them inconsistent data. The server administrator "
        "restores on the command line into an empty data folder, then starts the app on it."),
    "backup.restore_steps": (
        "恢复前会校验备份文件中每个文件的 SHA-256；损坏或不完整的备份会被拒绝，不写入任何内容。"
        "较旧版本的备份恢复后会自动升级到最新的数据库结构。"
        "PostgreSQL 需恢复到一个没有 kesu 数据表的数据库，详见 README“备份与恢复”。",
        "The restore first checks the SHA-256 of every file in the archive; a damaged or "
        "incomplete archive is refused and nothing is written. A backup of an older version is "
        "migrated to the newest schema. PostgreSQL restores into a database without kesu "
        "tables; see the README, \"Backup and restore\"."),
}

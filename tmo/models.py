"""The audit hash chain: one link per auditlog entry, and the single head row that serialises appends."""

from django.db import models


class AuditChainLink(models.Model):
    """The keyed hash of one LogEntry, chained to the one before it.

    `entry_id` is a plain integer, not a foreign key: the chain must outlive (and so reveal) the
    deletion of the entry it covers, and must never be removed by a cascade.
    """

    entry_id = models.BigIntegerField(unique=True)
    position = models.PositiveBigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        verbose_name = "audit chain link"

    def __str__(self):
        return "#%s entry %s" % (self.position, self.entry_id)


class AuditChainHead(models.Model):
    """The latest position and hash. One row (pk 1), locked while a link is appended, so two
    transactions cannot both extend the same position and fork the chain."""

    position = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self):
        return "#%s %s" % (self.position, self.hash[:12])


class AuditVerification(models.Model):
    """The outcome of one run of the chain check (daily job or `verify_audit --record`), shown on
    the data protection lead's audit page. The message names positions and entry ids only."""

    checked_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    entries = models.PositiveBigIntegerField(default=0)
    head_position = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    checkpoint_file = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        get_latest_by = "checked_at"
        verbose_name = "audit chain verification"

    def __str__(self):
        return "%s %s" % (self.checked_at, "intact" if self.ok else "BROKEN")


from tmo.retention_models import *  # noqa: E402, F403 - the retention schedule and disposal

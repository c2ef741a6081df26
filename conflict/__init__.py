"""The domain: record types, their lifecycles, per-field merge policies and conflict detection.

Pure code over msgspec and pycrdt: no I/O, no web framework. The hub (``sync``) and the device SDK
(``client_sdk``) call it; it imports neither.
"""

from __future__ import annotations

from conflict.codes import ViolationCode
from conflict.derived import DerivedFields, derived_fields, is_overdue, status_change_entry
from conflict.document import (
    DocumentContent,
    append_entry,
    correct_field,
    project_document,
    read_document,
    restore_text,
    write_field,
)
from conflict.entries import current_entries, previous_version, removed_entries
from conflict.errors import ClockDriftError, DomainError, FieldsyncError, HlcError, InvalidDocumentName, UnknownRecordType
from conflict.hlc import Hlc, HlcTimestamp, wall_clock_ms
from conflict.lifecycle import (
    LIFECYCLES,
    Lifecycle,
    Transition,
    allowed_targets,
    check_transition,
    final_statuses,
    initial_statuses,
    lifecycle_of,
    render_lifecycle_table,
)
from conflict.names import DocumentName, parse_document_name
from conflict.permissions import check_append, check_field_write, check_list_kept, check_stamp
from conflict.policies import APPEND_ONLY, LAST_WRITER_WINS_HLC, ROLE_OWNED, FieldPolicy, MergeKind
from conflict.projection import ProjectionFields, ValidationProblem, project
from conflict.records import RECORD_TYPES, RecordType, lookup_record_type, record_type_for
from conflict.resolution import (
    FieldConflict,
    FieldResolution,
    check_resolved_status,
    check_status_path,
    resolve_field,
    resolve_record,
)
from conflict.roles import Role, known_roles
from conflict.stamps import (
    CLOCKS_ROOT,
    RECORD_ROOT,
    FieldStamp,
    StampProblem,
    StampTable,
    make_stamp,
    new_stamps,
    parse_clocks,
    stamp_key,
)
from conflict.verdicts import Verdict

__all__ = [
    "APPEND_ONLY",
    "CLOCKS_ROOT",
    "LAST_WRITER_WINS_HLC",
    "LIFECYCLES",
    "RECORD_ROOT",
    "RECORD_TYPES",
    "ROLE_OWNED",
    "ClockDriftError",
    "DerivedFields",
    "DocumentContent",
    "DocumentName",
    "DomainError",
    "FieldConflict",
    "FieldPolicy",
    "FieldResolution",
    "FieldsyncError",
    "FieldStamp",
    "Hlc",
    "HlcError",
    "HlcTimestamp",
    "InvalidDocumentName",
    "Lifecycle",
    "MergeKind",
    "ProjectionFields",
    "RecordType",
    "Role",
    "StampProblem",
    "StampTable",
    "Transition",
    "UnknownRecordType",
    "ValidationProblem",
    "Verdict",
    "ViolationCode",
    "allowed_targets",
    "append_entry",
    "check_append",
    "check_field_write",
    "check_list_kept",
    "check_resolved_status",
    "check_status_path",
    "check_stamp",
    "check_transition",
    "correct_field",
    "current_entries",
    "derived_fields",
    "final_statuses",
    "initial_statuses",
    "is_overdue",
    "known_roles",
    "lifecycle_of",
    "lookup_record_type",
    "make_stamp",
    "new_stamps",
    "parse_clocks",
    "parse_document_name",
    "previous_version",
    "project",
    "project_document",
    "read_document",
    "record_type_for",
    "removed_entries",
    "render_lifecycle_table",
    "resolve_field",
    "resolve_record",
    "restore_text",
    "stamp_key",
    "status_change_entry",
    "wall_clock_ms",
    "write_field",
]

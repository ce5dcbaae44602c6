"""The names by which code starts gongwen's served deployments: ``<flow>/gongwen``.

Every deployment is named after its flow and called ``gongwen`` (flows.deployments). This module
imports nothing, so the command line can name a deployment without importing Prefect.
"""

NAME = "gongwen"
LIFECYCLE = f"document-lifecycle/{NAME}"
DRAFT = f"draft-document/{NAME}"
DISTRIBUTE = f"distribute-document/{NAME}"
AUDIT_RETRIEVE = f"audit-retrieve/{NAME}"
ANCHOR = f"anchor-audit-log/{NAME}"

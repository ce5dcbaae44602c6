"""办文 actions: one plain function per thing a person (or the system) does to a document.

The command line (gongwen) and the Prefect flows (flows) are thin callers of these
functions. Each action takes the acting person as a proven identity (models.identity,
checked by storage.directory_store.prove), asks the lifecycle table which role may take
it (models.authorization.authorize), writes its change and its 审计日志 entry in one
transaction, and audits every refusal the same way (storage.audit_log.refusals_audited).
No Prefect import here.
"""

"""办文 actions: one plain function per thing a person (or the system) does to a document.

The command line (gongwen) and the Prefect flows (flows) are thin callers of these
functions; neither checks a person, a role or a state itself. Each action takes the
acting person as a proven identity (actions.identity), asks the lifecycle table which
role may take it (actions.authorize), writes its change and its 审计日志 entry in one
transaction, and audits every refusal the same way. No Prefect import here.
"""

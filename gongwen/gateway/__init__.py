"""门户: the sign-in gateway in front of the Prefect server and its UI.

Staff open the gateway's address; every page and API request needs a signed-in person (password, and a
TOTP code where the directory asks for one). The gateway passes allowed requests on to the Prefect server,
which listens on loopback only and requires an auth string the gateway holds; it decides per role which
Prefect routes a person may use (models.access_policy), and it puts the signed-in person and a 门户签章
(models.stamps) into every form answer and every start of a gongwen deployment, so that no name or PIN
typed into a form is ever trusted. Modules: ``config`` (what it needs), ``signin`` (the pages and the
session cookie), ``proxy`` (HTTP and websockets to Prefect), ``app`` (the door itself).
"""

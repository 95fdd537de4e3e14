"""pytest plugin for the MongoDB profile, loaded by tests/mongo/run.py: an xdist worker uses its own SecantusDB.

run.py starts one server per worker and lists their URLs in MONGODB_TEST_URLS; worker gwN takes the Nth as
MONGODB_TEST_URL. This runs when the plugin is imported (`-p`), before pytest-django loads the settings
(config.settings.test_mongo reads MONGODB_TEST_URL). Without xdist, or with one URL, nothing changes.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_urls = [url for url in os.environ.get("MONGODB_TEST_URLS", "").split(",") if url]
if _worker.startswith("gw") and _worker[2:].isdigit() and _urls:
    os.environ["MONGODB_TEST_URL"] = _urls[int(_worker[2:]) % len(_urls)]

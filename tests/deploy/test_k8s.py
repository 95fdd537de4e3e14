"""deploy/k8s: the base and every overlay rendered (`kubectl kustomize`, tests/deploy/kustomize.py) and validated
against Kubernetes' own schemas (kubernetes-validate, strict), then what schemas cannot say: probes, resources,
references between objects, the bot's ordering rules."""

import copy
import re

import kubernetes_validate
import pytest
import yaml

from .kustomize import KustomizeError, containers, pod_spec, render
from .tools import K8S, KUBERNETES_VERSION, OVERLAYS, ROOT, script_settings

TARGETS = ("base", *OVERLAYS)


def rendered(target: str) -> list[dict]:
    if target == "base":
        return render(K8S / "base")
    directory = K8S / "overlays" / target
    return render(directory, {str(directory / "secrets.env"): str(directory / "secrets.env.example")})


@pytest.fixture(scope="module", params=TARGETS)
def manifests(request) -> tuple[str, list[dict]]:
    return request.param, rendered(request.param)


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def validation_errors(doc: dict) -> list[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{doc['kind']}/{doc['metadata'].get('name')}: {error.message} at {list(error.path)}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{doc['kind']}: no schema ({error})"]
    return []


def test_every_manifest_is_valid_for_kubernetes(manifests):
    target, docs = manifests
    assert len(docs) > 20
    errors = [error for doc in docs for error in validation_errors(doc)]
    assert errors == [], target


@pytest.mark.parametrize("breakage", [
    lambda d: d["spec"].update(replicas="two"),
    lambda d: d["spec"]["template"]["spec"]["containers"][0].update(livenessProbes={}),
    lambda d: d["spec"].pop("selector"),
])
def test_the_schema_check_catches_mistakes(breakage):
    deployment = copy.deepcopy(by_kind(rendered("prod"), "Deployment")["core"])
    breakage(deployment)
    assert validation_errors(deployment)


def test_each_overlay_is_a_complete_deployment(manifests):
    target, docs = manifests
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in docs}
    for required in [("Deployment", "core"), ("Deployment", "web"), ("Deployment", "bot"), ("Deployment", "redis"),
                     ("StatefulSet", "mongo"), ("StatefulSet", "bot-redis"), ("Job", "core-migrate"),
                     ("Job", "mongo-init"),
                     ("HorizontalPodAutoscaler", "core"), ("HorizontalPodAutoscaler", "web"),
                     ("HorizontalPodAutoscaler", "bot"), ("PodDisruptionBudget", "bot"),
                     ("Ingress", "tgmod"), ("ConfigMap", "tgmod-config"), ("Secret", "tgmod-secrets"),
                     ("PodDisruptionBudget", "core"), ("PodDisruptionBudget", "web"),
                     ("PodDisruptionBudget", "mongo")]:
        assert required in kinds, (target, required)
    if target != "base":
        expected = "tgmod" if target == "prod" else f"tgmod-{target}"
        assert list(by_kind(docs, "Namespace")) == [expected]
        assert all(doc["metadata"].get("namespace") == expected for doc in docs if doc["kind"] != "Namespace")
        images = {container["image"] for doc in docs for container in containers(doc)}
        # Every role image renamed and tagged by the overlay.
        assert not images & {"tgmod-core", "tgmod-bot", "tgmod-web"} and all(":" in image for image in images), images


@pytest.mark.parametrize("target", TARGETS)
def test_role_deployments_probe_api_health(target):
    for name, doc in by_kind(rendered(target), "Deployment").items():
        if name == "redis":
            continue
        container = doc["spec"]["template"]["spec"]["containers"][0]
        port = container["ports"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            check = container[probe]["httpGet"]
            assert check["path"] == "/api/health", (name, probe)
            assert check["port"] == port["name"]
            # Django answers 400 to a Host it does not allow; the probe names one the role allows.
            host = {h["name"]: h["value"] for h in check["httpHeaders"]}["Host"]
            allowed = {e["name"]: e.get("value") for e in container["env"]}["ALLOWED_HOSTS"]
            assert host in allowed.split(","), name
        assert container["command"] == [f"deploy/start/{name}.sh"]
        assert (ROOT / container["command"][0]).exists()


def test_every_container_has_requests_limits_and_a_locked_down_context(manifests):
    target, docs = manifests
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        assert spec.get("automountServiceAccountToken") is False
        for container in containers(doc):
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), (target, container["name"])
            assert {"cpu", "memory"} <= set(resources["limits"]), (target, container["name"])
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector["matchLabels"].items())


def workloads(docs):
    return [doc for doc in docs if doc["kind"] in {"Deployment", "StatefulSet"}]


def test_pdbs_and_hpas_point_at_existing_workloads(manifests):
    target, docs = manifests
    for pdb in by_kind(docs, "PodDisruptionBudget").values():
        matched = [w for w in workloads(docs)
                   if selects(pdb["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])]
        assert len(matched) == 1, pdb["metadata"]["name"]
        assert matched[0]["metadata"]["name"] == pdb["metadata"]["name"]
    deployments = by_kind(docs, "Deployment")
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {"core", "web", "bot"}
    bounds = {"core": (2, 5), "web": (2, 5), "bot": (3, 10)}
    for name, hpa in hpas.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["name"] == name and name in deployments
        if target != "dev":
            assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == bounds[name]
            assert deployments[name]["spec"]["replicas"] == bounds[name][0]


def test_services_select_pods_and_ports_exist(manifests):
    _, docs = manifests
    for service in by_kind(docs, "Service").values():
        matched = [w for w in workloads(docs) if selects({"matchLabels": service["spec"]["selector"]},
                                                         w["spec"]["template"]["metadata"]["labels"])]
        assert len(matched) == 1, service["metadata"]["name"]
        ports = {port["name"] for c in matched[0]["spec"]["template"]["spec"]["containers"] for port in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports


def test_ingress_routes_web_websockets_and_the_webhook(manifests):
    _, docs = manifests
    ingress = by_kind(docs, "Ingress")["tgmod"]
    services = by_kind(docs, "Service")
    routes = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["port"]["name"] in {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
            routes[path["path"]] = backend["name"]
    assert routes == {"/telegram/webhook": "bot", "/ws/": "web", "/": "web"}
    assert int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"] for rule in ingress["spec"]["rules"]]


def test_config_and_secret_references_resolve(manifests):
    _, docs = manifests
    config = by_kind(docs, "ConfigMap")["tgmod-config"]["data"]
    secret = by_kind(docs, "Secret")["tgmod-secrets"]
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    for doc in docs:
        for container in containers(doc):
            defined = set()
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] == "tgmod-config"
                defined |= set(config)
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "tgmod-secrets" and ref["key"] in secret_keys, ref
                # $(VAR) expands only variables defined before it.
                for used in re.findall(r"\$\((\w+)\)", env.get("value", "")):
                    assert used in defined, (container["name"], env["name"], used)
                defined.add(env["name"])


def test_bot_replicas_share_a_durable_update_log_of_their_own(manifests):
    """Several bot replicas (apps/botgateway/replicas/): each reaches the update log through BOT_REDIS_URL, a Redis
    of its own that fsyncs every write and never evicts (the webhook's 200 rests on it), reachable from the bot
    only; rolled one new pod at a time, and no volume a second replica could not mount."""
    _, docs = manifests
    bot = by_kind(docs, "Deployment")["bot"]
    assert bot["spec"]["strategy"]["type"] == "RollingUpdate"
    assert bot["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    spec = bot["spec"]["template"]["spec"]
    assert not [v for v in spec["volumes"] if "persistentVolumeClaim" in v]
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["DATA_DIR"]["value"] == "/data"
    assert env["BOT_REPLICA_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    url = env["BOT_REDIS_URL"]["value"]
    host, port = re.fullmatch(r"redis://([\w-]+):(\d+)/\d+", url).groups()
    log = by_kind(docs, "StatefulSet")[host]
    service = by_kind(docs, "Service")[host]
    assert selects({"matchLabels": service["spec"]["selector"]}, log["spec"]["template"]["metadata"]["labels"])
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    args = log["spec"]["template"]["spec"]["containers"][0]["args"]
    options = dict(zip(args[1::2], args[2::2], strict=False))
    assert options["--appendonly"] == "yes" and options["--appendfsync"] == "always"
    assert options["--maxmemory-policy"] == "noeviction"
    assert log["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    policy = by_kind(docs, "NetworkPolicy")[host]
    assert policy["spec"]["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": bot["spec"]["template"]["metadata"]["labels"]}}]
    # The shared cache evicts and forgets on restart: never the bot's log.
    assert by_kind(docs, "ConfigMap")["tgmod-config"]["data"].get("REDIS_URL") != url


def test_migrations_run_in_a_job_and_core_waits_for_them(manifests):
    _, docs = manifests
    job = by_kind(docs, "Job")["core-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["deploy/start/migrate.sh"]
    core = by_kind(docs, "Deployment")["core"]["spec"]["template"]["spec"]
    assert core["initContainers"][0]["command"] == ["deploy/start/wait-for-migrations.sh"]
    assert core["initContainers"][0]["image"] == core["containers"][0]["image"] == \
        job["spec"]["template"]["spec"]["containers"][0]["image"]


def test_mongo_replica_set_members_match_the_database_url():
    for target in OVERLAYS:
        docs = rendered(target)
        members = by_kind(docs, "StatefulSet")["mongo"]["spec"]["replicas"]
        init = by_kind(docs, "Job")["mongo-init"]["spec"]["template"]["spec"]["containers"][0]
        assert {e["name"]: e["value"] for e in init["env"]}["MONGO_MEMBERS"] == str(members)
        example = (K8S / "overlays" / target / "secrets.env.example").read_text()
        url = re.search(r"^DATABASE_URL=(.+)$", example, re.M).group(1)
        assert url.count("mongo-") == members and "replicaSet=rs0" in url


def test_overlay_secrets_are_never_committed():
    for target in OVERLAYS:
        assert "secrets.env" in (K8S / "overlays" / target / ".gitignore").read_text().split()
        values = dict(line.split("=", 1) for line in (K8S / "overlays" / target / "secrets.env.example").read_text()
                      .splitlines() if line and not line.startswith("#"))
        assert all(values[key] == "" for key in values if key != "DATABASE_URL")


# -- the renderer (kubectl kustomize)


def test_renderer_applies_strategic_merge_patches_by_name(tmp_path):
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"}, "spec": {"template": {
        "spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"},
                                                                      {"name": "Y", "value": "2"}]},
                                {"name": "b", "image": "b:1"}]}}}}
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"}, "spec": {"template": {
        "spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}}}}
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(deployment))
    (tmp_path / "patch.yaml").write_text(yaml.safe_dump(patch))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["app.yaml"],
                                                                 "patches": [{"path": "patch.yaml"}]}))
    [rendered_app] = render(tmp_path)
    first, second = containers(rendered_app)
    assert sorted((e["name"], e["value"]) for e in first["env"]) == [("X", "1"), ("Y", "3")]
    assert (first["name"], second["name"]) == ("a", "b")


def test_renderer_reports_kustomizes_errors(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [], "patches": [{"path": "p.yaml"}]}))
    (tmp_path / "p.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: missing\n")
    with pytest.raises(KustomizeError, match="no matches for"):
        render(tmp_path)


def test_prod_overlay_needs_the_operators_secrets_file(tmp_path):
    directory = K8S / "overlays" / "prod"
    with pytest.raises(KustomizeError, match=r"secrets\.env: no such file"):
        render(directory, {str(directory / "secrets.env"): str(tmp_path / "absent")})


def test_containers_carry_their_scripts_settings_for_kubectl_exec(manifests):
    _, docs = manifests
    checked = 0
    for doc in docs:
        for container in containers(doc):
            command = container.get("command", [""])[0]
            if command.startswith("deploy/start/"):
                env = {e["name"]: e.get("value") for e in container["env"]}
                assert env["DJANGO_SETTINGS_MODULE"] == script_settings(command), container["name"]
                checked += 1
    assert checked == 5


# The image (Dockerfile target) each start script belongs to: the packages it needs are in that image only.
SCRIPT_IMAGES = {"core.sh": "core", "migrate.sh": "core", "wait-for-migrations.sh": "core", "bot.sh": "bot",
                 "web.sh": "web"}


def test_each_container_runs_the_image_of_its_role(manifests):
    target, docs = manifests
    seen = set()
    for doc in docs:
        for container in containers(doc):
            command = container.get("command") or []
            if not command or not command[0].startswith("deploy/start/"):
                continue
            role = SCRIPT_IMAGES[command[0].removeprefix("deploy/start/")]
            name = container["image"].rsplit("/", 1)[-1].split(":")[0]
            assert name == f"tgmod-{role}", (doc["metadata"]["name"], container["name"], container["image"])
            seen.add(role)
    assert seen == {"core", "bot", "web"}, target
    if target != "base":
        # One tag for the three images of a release.
        tags = {container["image"].rsplit(":", 1)[1] for doc in docs for container in containers(doc)
                if "tgmod-" in container["image"]}
        assert len(tags) == 1, tags

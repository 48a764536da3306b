"""Compiling published versions to code: jobs on the compile queue, statuses in the version item,
ZIPs in S3 behind presigned URLs.

A job message is an outbox message, written with the change that asks for it (the publish, or a
POST .../compile), and so is the event that announces the job's end: each is one atomic fact with
its write.

Delivery is at least once: a job for a language that already succeeded under the same job id does
nothing, and ZIPs are deterministic and content-addressed, so a repeat never changes a finished one.

A receive claims the languages it compiles: `running` with its own claim id and a lease
(`lease_expires_at`, SPOKE_COMPILE_LEASE_SECONDS: the function's timeout, less than the queue's
visibility timeout). Another receive of the same job leaves a live claim alone; a claim whose lease
has expired belongs to a receive the timeout cut off, so the next receive resumes it, and the last
receive (the queue's maxReceiveCount) marks it failed instead of starting a compile that would be
cut off the same way with nobody left to record it. A receive that fails gives its claim back.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.compile_status import Statuses, abandoned_as_failed, status_language, status_name
from chalicelib.domain.errors import CompilationFailed, UnknownLanguage, UnknownProtocRelease, ValidationFailed
from chalicelib.domain.go_paths import DEFAULT_GO_MODULE_HOST, GoPrefix, registry_go_prefix
from chalicelib.domain.models import Organization, OutboxMessage, RequestContext
from chalicelib.domain.names import DEFAULT_ORG_ID, DEFAULT_ORG_SLUG
from chalicelib.domain.packages import DependencyPackage, PackageInfo
from chalicelib.domain.roles import Action
from chalicelib.services.common import iso_utc, require, utc_now
from chalicelib.services.events import EventPublisher
from chalicelib.services.ports import BlobsPort, FollowUp, MetricsPort, NoMetrics, RegistryPort
from chalicelib.services.quotas import Plans, quotas_for

ERROR_LIMIT = 4000
FINISHED = ("succeeded", "failed")
ABANDONED = ("compilation stopped: the compile function was cut off by its time limit and no retry was left; "
             "POST .../compile to try again, or split the module")
ABANDONED_GRACE_SECONDS = 300  # past the queue's visibility timeout: a retry that exists has claimed it by then
CUT_OFF = ("compilation was cut off by the compile function's time limit on an earlier attempt and was not "
           "tried again: split the module, or raise SPOKE_COMPILE_TIMEOUT_SECONDS")


def job_finished(statuses: Statuses, job: str) -> bool:
    """Every language of `job` (that it still owns) has succeeded or failed."""
    mine = [s for s in statuses.values() if s.get("job") == job]
    return bool(mine) and all(s.get("status") in FINISHED for s in mine)


def lease_expired(status: dict[str, Any], now: datetime) -> bool:
    expires = status.get("lease_expires_at")
    return expires is None or datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now


class GeneratorPort(Protocol):
    def versions(self) -> dict[str, str]: ...
    def default_release(self) -> str: ...
    def catalog(self, languages: list[str]) -> dict[str, Any]:
        """{"default": release, "releases": [{"release", "default", "editions", "runtimes"}], "grpc": {...}}"""
    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 go_package_prefix: str | None = None, module: str = "", version: str = "",
                 descriptor_set: bytes | None = None, go_default_prefix: str | None = None,
                 go_dependency_prefixes: dict[str, GoPrefix] | None = None,
                 package: PackageInfo | None = None, protoc_release: str | None = None) -> Any: ...


class OrganizationLookup(Protocol):
    """The one read a compile job makes of organizations: the slug in its registry-derived Go paths."""

    def get_organization(self, org_id: str) -> Organization | None: ...


class CompilationService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, generator: GeneratorPort,
                 languages: Mapping[str, str], url_ttl_seconds: int, events: EventPublisher, *,
                 lease_seconds: int = 900, clock: Callable[[], datetime] | None = None,
                 plans: Plans | None = None, organizations: OrganizationLookup | None = None,
                 go_module_host: str = DEFAULT_GO_MODULE_HOST, metrics: MetricsPort | None = None) -> None:
        self._metrics = metrics or NoMetrics()  # compile duration and outcome per language
        self._plans = plans  # the plan table (compiles per day); None: no quotas
        self._organizations = organizations  # org slugs for derived Go paths; None: the org id stands in
        self._go_module_host = go_module_host
        self._events = events
        self._registry = registry
        self._blobs = blobs
        self._generator = generator
        self._languages = languages  # name -> description
        self._url_ttl = url_ttl_seconds
        self._lease_seconds = lease_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lease_grace = ABANDONED_GRACE_SECONDS
        self._slugs: dict[str, str] = {}  # org id -> slug, read once per job

    @property
    def default_languages(self) -> list[str]:
        return sorted(self._languages)

    def pending(self, languages: list[str], job: str) -> dict[str, dict[str, Any]]:
        return {language: {"status": "pending", "job": job, "updated_at": utc_now()} for language in languages}

    @staticmethod
    def job_message(org_id: str, module: str, version: str, sort_key: str, languages: list[str], job: str,
                    protoc_release: str | None = None) -> OutboxMessage:
        """The compile queue's message for a job: the caller writes it with the statuses that ask for it.
        `protoc`: the release to compile with, absent for the default."""
        body = {"org_id": org_id, "module": module, "version": version, "sort_key": sort_key,
                "languages": languages, "job": job}
        if protoc_release:
            body["protoc"] = protoc_release
        return OutboxMessage(queue="compile", body=json.dumps(body))

    def languages(self) -> dict[str, Any]:
        """The outputs, the generators' versions, the protoc releases (each with the runtime every
        language then needs) and which languages get gRPC stubs."""
        catalog = self._generator.catalog(self.default_languages)
        grpc = catalog.get("grpc", {})
        return {"languages": [{"name": name, "description": text, **({"grpc": grpc[name]} if name in grpc else {})}
                              for name, text in sorted(self._languages.items())],
                "versions": self._generator.versions(),
                "protoc_releases": catalog.get("releases", []), "default_protoc_release": catalog.get("default")}

    def protoc_release(self, value: Any) -> str | None:
        """The release a request names (`?protoc=` or the body's `protoc`), None for the default; an
        unknown one is UNKNOWN_PROTOC_RELEASE with the known ones."""
        if value is None or value == "":
            return None
        catalog = self._generator.catalog([])
        known = [entry["release"] for entry in catalog.get("releases", [])]
        if not isinstance(value, str) or value not in known:
            shown = str(value)[:40]
            raise UnknownProtocRelease(f"Unknown protoc release '{shown}'; known: {', '.join(known)}",
                                       details={"unknown": shown, "known": known, "default": catalog.get("default")})
        return None if value == catalog.get("default") else value

    def _checked(self, languages: Any) -> list[str]:
        if languages is None:
            return self.default_languages
        if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
            raise ValidationFailed("languages must be a non-empty list of language names", validation_errors=[
                {"field": "languages", "code": "INVALID_TYPE", "message": "e.g. [\"go\", \"python\"]"}])
        unknown = sorted(set(languages) - set(self._languages))
        if unknown:
            shown = [name[:40] for name in unknown[:10]]
            raise UnknownLanguage(f"Unknown language(s) {', '.join(shown)}; known: {', '.join(self.default_languages)}",
                                  details={"unknown": shown, "known": self.default_languages})
        return sorted(set(languages))

    def request(self, ctx: RequestContext, item: dict[str, Any], languages: Any, protoc: Any = None
                ) -> dict[str, Any]:
        """(Re)compile some languages of a version (with a protoc release: `protoc`, None for the
        default): they go back to pending under a new job."""
        require(ctx, Action.PUBLISH)
        chosen = self._checked(languages)
        release = self.protoc_release(protoc)
        job = uuid.uuid4().hex
        message = self.job_message(item["org_id"], item["module"], item["version"], item["sort_key"], chosen, job,
                                   release)
        pending = self.pending([status_name(language, release) for language in chosen], job)
        # The plan's compiles_per_day is a condition of the same transaction as the job's message.
        updated = self._registry.set_compilation(item["org_id"], item["module"], item["sort_key"],
                                                 pending, outbox=lambda _before, _after: [message],
                                                 compile_quota=quotas_for(ctx, self._plans, now=self._clock()))
        compilation: dict[str, Any] = (updated or item).get("compilation", {})
        return compilation

    def as_seen(self, item: dict[str, Any]) -> dict[str, Any]:
        """The version item with its statuses as readers see them (an abandoned claim is failed), so a
        compile whose last receive was itself cut off does not stay `running` forever."""
        shown = abandoned_as_failed(item.get("compilation", {}), self._clock(), self._lease_grace, ABANDONED)
        return {**item, "compilation": shown}

    def download(self, item: dict[str, Any], language: str, protoc: Any = None,
                 ctx: RequestContext | None = None) -> tuple[str, dict[str, Any]]:
        """('ready', {url...}) or ('pending', status); a failed compilation raises COMPILATION_FAILED.

        With a protoc release (`protoc`) not compiled yet for this language, and a caller (`ctx`), the
        compile is enqueued (the job's message written with its pending status, as a recompile's)."""
        item = self.as_seen(item)
        if language not in self._languages:
            raise UnknownLanguage(f"Unknown language '{language}'; known: {', '.join(self.default_languages)}",
                                  details={"known": self.default_languages})
        release = self.protoc_release(protoc)
        name = status_name(language, release)
        described = {"language": language, **({"protoc_release": release} if release else {})}
        status = item.get("compilation", {}).get(name)
        if status is None and release and ctx is not None:
            status = self._enqueue(ctx, item, language, release)
        if status is None:
            return "pending", {**described, "status": "not_requested",
                               "message": "Not compiled yet: POST .../compile with this language"}
        if status["status"] == "failed":
            raise CompilationFailed(f"Compiling {item['module']} {item['version']} to {name} failed: "
                                    f"{status.get('error', '')}", details={**described,
                                                                           "error": status.get("error", "")})
        if status["status"] != "succeeded":
            return "pending", {**described, **status}
        suffix = f"-protoc-{release}" if release else ""
        filename = f"{item['module']}-{item['version']}-{language}{suffix}.zip"
        return "ready", {**described, "url": self._blobs.artifact_url(status["sha256"], filename, self._url_ttl),
                         "expires_in": self._url_ttl, "size": status["size"], "sha256": status["sha256"]}

    def _enqueue(self, ctx: RequestContext, item: dict[str, Any], language: str, release: str
                 ) -> dict[str, Any] | None:
        """A download's compile of a release not compiled yet: pending under a new job, its message in the
        same write, only if no other request enqueued it first (then that one's status is returned)."""
        job, name = uuid.uuid4().hex, status_name(language, release)
        message = self.job_message(item["org_id"], item["module"], item["version"], item["sort_key"], [language],
                                   job, release)

        def absent_only(current: Statuses) -> Statuses:
            return {} if name in current else self.pending([name], job)

        def follow_up(before: Statuses, after: Statuses) -> list[OutboxMessage]:
            return [message] if name not in before and after.get(name, {}).get("job") == job else []

        updated = self._registry.set_compilation(item["org_id"], item["module"], item["sort_key"], absent_only,
                                                 outbox=follow_up,
                                                 compile_quota=quotas_for(ctx, self._plans, now=self._clock()))
        status: dict[str, Any] | None = (updated or {}).get("compilation", {}).get(name)
        return status

    def run_job(self, message: dict[str, Any], final_attempt: bool) -> dict[str, Any] | None:
        """The compile function's work for one queue message; raises to have SQS retry it."""
        org_id, module, sort_key, job = message["org_id"], message["module"], message["sort_key"], message["job"]
        release: str | None = message.get("protoc") or None   # a job of the default release names none
        wanted = [status_name(language, release) for language in message["languages"]]  # compilation entries
        announce = self._announcement(org_id, module, message.get("version", ""), job)
        claim = uuid.uuid4().hex
        item = self._registry.set_compilation(org_id, module, sort_key, self._claim(job, wanted, claim, final_attempt),
                                              unless_job_finished=job, outbox=announce)
        if item is None:
            return None
        # Only what this receive claimed: not a finished language, nor one another receive holds.
        todo = [lang for lang in wanted if item.get("compilation", {}).get(lang, {}).get("claim") == claim]
        if not todo:
            return item
        languages = [status_language(name)[0] for name in todo]
        started = time.perf_counter()
        try:
            self._slugs = {}  # read again by each job: a slug may have changed since the last one
            files, dependency_files, owners = self._sources(item)
            prefix, default_prefix, dependency_prefixes = self._go_prefixes(org_id, module, languages, owners)
            result = self._generator.generate(files, dependency_files, languages, module=module,
                                              version=item["version"], protoc_release=release,
                                              go_package_prefix=prefix, go_default_prefix=default_prefix,
                                              go_dependency_prefixes=dependency_prefixes,
                                              package=replace(self._package(org_id, item, owners),
                                                              protoc_release=release),
                                              descriptor_set=self._blobs.get_descriptor_set(
                                                  item["descriptor_set_sha256"]))
        except Exception as error:
            # Give the claim back, so the next receive need not wait out the lease; the last one fails it.
            gone = {"status": "failed", "job": job, "error": f"compile job failed: {type(error).__name__}"} \
                if final_attempt else {"status": "pending", "job": job}
            self._registry.set_compilation(org_id, module, sort_key, self._release(todo, claim, gone),
                                           unless_job_finished=job, outbox=announce)
            if final_attempt:
                self._count_outcomes({language: False for language in todo},
                                     (time.perf_counter() - started) * 1000)
            raise
        elapsed_ms = (time.perf_counter() - started) * 1000
        statuses = {}
        for language, output in result.outputs.items():
            name = status_name(language, release)
            if output.ok:
                sha256 = self._blobs.put_artifact(output.zip_bytes)
                statuses[name] = {"status": "succeeded", "job": job, "sha256": sha256,
                                  "size": len(output.zip_bytes), "updated_at": utc_now()}
                notes = list(getattr(output, "notes", ()))[:10]
                if notes:  # e.g. gRPC stubs a missing plugin could not make: said where users look
                    statuses[name]["notes"] = [note[:500] for note in notes]
            else:
                statuses[name] = {"status": "failed", "job": job, "error": (output.error or "")[:ERROR_LIMIT],
                                  "updated_at": utc_now()}
        # The guard: results of this job never replace a language it no longer owns or has finished
        # (a receive that resumed an expired claim may have finished it first).
        recorded = self._registry.set_compilation(org_id, module, sort_key, statuses, unless_job_finished=job,
                                                  outbox=announce)
        # counted once recorded: a receive whose statuses were not written comes again and counts then
        self._count_outcomes({language: output.ok for language, output in result.outputs.items()}, elapsed_ms)
        return recorded

    def _count_outcomes(self, outcomes: dict[str, bool], elapsed_ms: float) -> None:
        """CompileDuration and CompileSucceeded/CompileFailed per language (the languages of a job compile
        together: each gets the job's duration), and CompileFailures with no language (the alarm's)."""
        for language, ok in outcomes.items():
            dimensions = {"language": language}
            self._metrics.milliseconds("CompileDuration", elapsed_ms, dimensions)
            self._metrics.count("CompileSucceeded" if ok else "CompileFailed", 1, dimensions)
        failures = sum(1 for ok in outcomes.values() if not ok)
        if failures:
            self._metrics.count("CompileFailures", failures)

    def _go_prefixes(self, org_id: str, module_name: str, languages: list[str], owners: dict[str, str]
                     ) -> tuple[str | None, str | None, dict[str, GoPrefix]]:
        """(the module's go_package_prefix as it is NOW, the registry's derived prefix when it has none,
        {dependency file: its own module's prefix}).

        Read at compile time, not from the version: a PATCH of the prefix followed by a recompile fixes
        a version's Go code. Only Go jobs pay for the reads (one per module, and the organization's slug)."""
        if "go" not in languages:
            return None, None, {}
        def prefix_of(name: str) -> GoPrefix | None:
            module = self._registry.get_module(org_id, name)
            if module is not None and module.go_package_prefix:
                return GoPrefix(module.go_package_prefix)
            derived = registry_go_prefix(self._go_module_host, self._org_slug(org_id), name)
            return GoPrefix(derived, derived=True) if derived else None

        own = prefix_of(module_name)
        by_module = {name: prefix_of(name) for name in sorted(set(owners.values()))}
        dependency_prefixes = {file: prefix for file, name in owners.items() if (prefix := by_module[name]) is not None}
        if own is None:
            return None, None, dependency_prefixes
        return (None, own.path, dependency_prefixes) if own.derived else (own.path, None, dependency_prefixes)

    def _org_slug(self, org_id: str) -> str:
        """The organization's slug (derived Go paths, package names), read once per job."""
        if org_id not in self._slugs:
            org = self._organizations.get_organization(org_id) if self._organizations is not None else None
            self._slugs = {org_id: org.slug if org is not None else
                           (DEFAULT_ORG_SLUG if org_id == DEFAULT_ORG_ID else org_id)}
        return self._slugs[org_id]

    def _package(self, org_id: str, item: dict[str, Any], owners: dict[str, str]) -> PackageInfo:
        """The names packaging gives the version and its closure (manifests' dependencies, go.mod, pyproject,
        pom): every module of resolved_dependencies, with its files and whether the version names it."""
        direct = {d["module"] for d in item.get("dependencies", [])}
        files: dict[str, list[str]] = {}
        for path, name in owners.items():
            files.setdefault(name, []).append(path)
        dependencies = tuple(DependencyPackage(d["module"], d["version"], tuple(sorted(files.get(d["module"], []))),
                                               d["module"] in direct)
                             for d in item.get("resolved_dependencies", []))
        return PackageInfo(self._org_slug(org_id), item["module"], item["version"], dependencies)

    def _claim(self, job: str, wanted: list[str], claim: str, final_attempt: bool
               ) -> Callable[[Statuses], Statuses]:
        """The languages of `job` nobody holds become this receive's, under a lease; on the last receive,
        one found still running under an expired lease (an earlier receive was cut off) fails instead."""
        def change(current: Statuses) -> Statuses:
            now = self._clock()
            lease = iso_utc(now + timedelta(seconds=self._lease_seconds))
            taken: Statuses = {}
            for language in wanted:
                status = current.get(language, {})
                if status.get("job") != job or status.get("status") in FINISHED:
                    continue  # another job's now, or done
                if status.get("status") == "running" and not lease_expired(status, now):
                    continue  # another receive of this job is compiling it
                if status.get("status") == "running" and final_attempt:
                    taken[language] = {"status": "failed", "job": job, "error": CUT_OFF, "updated_at": iso_utc(now)}
                else:
                    taken[language] = {"status": "running", "job": job, "claim": claim, "lease_expires_at": lease,
                                       "updated_at": iso_utc(now)}
            return taken
        return change

    @staticmethod
    def _release(languages: list[str], claim: str, status: dict[str, Any]) -> Callable[[Statuses], Statuses]:
        def change(current: Statuses) -> Statuses:
            return {lang: {**status, "updated_at": utc_now()} for lang in languages
                    if current.get(lang, {}).get("claim") == claim and current[lang].get("status") == "running"}
        return change

    def _announcement(self, org_id: str, module: str, version: str, job: str) -> FollowUp:
        """The change that finishes a job carries its event: version.compiled, or version.compilation_failed
        if any language failed. Only that one change: the statuses before it were not all finished."""
        def follow_up(before: Statuses, after: Statuses) -> list[OutboxMessage]:
            if job_finished(before, job) or not job_finished(after, job):
                return []
            mine = {lang: s for lang, s in after.items() if s.get("job") == job}
            failed = sorted(lang for lang, s in mine.items() if s["status"] == "failed")
            data = {"module": module, "version": version, "job": job,
                    "succeeded": sorted(lang for lang, s in mine.items() if s["status"] == "succeeded"),
                    "failed": {lang: mine[lang].get("error", "") for lang in failed}}
            return [self._events.message(org_id, "version.compilation_failed" if failed else "version.compiled",
                                         data)]
        return follow_up

    def _sources(self, item: dict[str, Any]) -> tuple[dict[str, bytes], dict[str, bytes], dict[str, str]]:
        """The version's files, its dependencies' and which module each dependency file comes from: one
        read of each version's pack (versions stored before packs: one read per file)."""
        from chalicelib.services.schemas import stored_manifest

        dependency_files: dict[str, bytes] = {}
        owners: dict[str, str] = {}
        for dependency in item.get("resolved_dependencies", []):
            files = self._blobs.read_files(self._blobs.read_manifest(dependency["manifest_sha256"]))
            dependency_files.update(files)
            owners.update({path: dependency["module"] for path in files})
        return self._blobs.read_files(stored_manifest(self._blobs, item)), dependency_files, owners

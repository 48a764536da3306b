"""Compiling published versions to code: jobs on the compile queue, statuses in the version item,
ZIPs in S3 behind presigned URLs.

Delivery is at least once: a job for a language that already succeeded under the same job id does
nothing, and ZIPs are deterministic and content-addressed, so a repeat never changes a finished one.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from chalicelib.domain.errors import CompilationFailed, UnknownLanguage, ValidationFailed
from chalicelib.domain.models import RequestContext
from chalicelib.domain.roles import Action
from chalicelib.services.common import require, utc_now
from chalicelib.services.events import EventPublisher
from chalicelib.services.ports import BlobsPort, QueuesPort, RegistryPort

ERROR_LIMIT = 4000


class GeneratorPort(Protocol):
    def versions(self) -> dict[str, str]: ...
    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 go_package_prefix: str | None = None, module: str = "", version: str = "",
                 descriptor_set: bytes | None = None) -> Any: ...


class CompilationService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, queues: QueuesPort, generator: GeneratorPort,
                 languages: dict[str, str], url_ttl_seconds: int, events: EventPublisher) -> None:
        self._events = events
        self._registry = registry
        self._blobs = blobs
        self._queues = queues
        self._generator = generator
        self._languages = languages  # name -> description
        self._url_ttl = url_ttl_seconds

    @property
    def default_languages(self) -> list[str]:
        return sorted(self._languages)

    def pending(self, languages: list[str], job: str) -> dict[str, dict[str, Any]]:
        return {language: {"status": "pending", "job": job, "updated_at": utc_now()} for language in languages}

    def enqueue(self, org_id: str, module: str, version: str, sort_key: str, languages: list[str], job: str) -> None:
        self._queues.send("compile", json.dumps({"org_id": org_id, "module": module, "version": version,
                                                 "sort_key": sort_key, "languages": languages, "job": job}))

    def languages(self) -> dict[str, Any]:
        return {"languages": [{"name": name, "description": text} for name, text in sorted(self._languages.items())],
                "versions": self._generator.versions()}

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

    def request(self, ctx: RequestContext, item: dict[str, Any], languages: Any) -> dict[str, Any]:
        """(Re)compile some languages of a version: they go back to pending under a new job."""
        require(ctx, Action.PUBLISH)
        chosen = self._checked(languages)
        job = uuid.uuid4().hex
        updated = self._registry.set_compilation(item["org_id"], item["module"], item["sort_key"],
                                                 self.pending(chosen, job))
        self.enqueue(item["org_id"], item["module"], item["version"], item["sort_key"], chosen, job)
        return (updated or item).get("compilation", {})

    def download(self, item: dict[str, Any], language: str) -> tuple[str, dict[str, Any]]:
        """('ready', {url...}) or ('pending', status); a failed compilation raises COMPILATION_FAILED."""
        if language not in self._languages:
            raise UnknownLanguage(f"Unknown language '{language}'; known: {', '.join(self.default_languages)}",
                                  details={"known": self.default_languages})
        status = item.get("compilation", {}).get(language)
        if status is None:
            return "pending", {"language": language, "status": "not_requested",
                               "message": "Not compiled yet: POST .../compile with this language"}
        if status["status"] == "failed":
            raise CompilationFailed(f"Compiling {item['module']} {item['version']} to {language} failed: "
                                    f"{status.get('error', '')}", details={"language": language,
                                                                           "error": status.get("error", "")})
        if status["status"] != "succeeded":
            return "pending", {"language": language, **status}
        filename = f"{item['module']}-{item['version']}-{language}.zip"
        return "ready", {"language": language, "url": self._blobs.artifact_url(status["sha256"], filename,
                                                                                self._url_ttl),
                         "expires_in": self._url_ttl, "size": status["size"], "sha256": status["sha256"]}

    def run_job(self, message: dict[str, Any], final_attempt: bool) -> dict[str, Any] | None:
        """The compile function's work for one queue message; raises to have SQS retry it."""
        org_id, module, sort_key, job = message["org_id"], message["module"], message["sort_key"], message["job"]
        item = self._registry.get_version(org_id, module, sort_key)
        if item is None:
            return None
        # Only languages this job still owes: a finished one (succeeded or failed) is never redone.
        todo = [lang for lang in message["languages"]
                if item.get("compilation", {}).get(lang, {}).get("job") == job
                and item["compilation"][lang].get("status") in ("pending", "running")]
        if not todo:
            return item
        try:
            self._registry.set_compilation(org_id, module, sort_key, {
                lang: {"status": "running", "job": job, "updated_at": utc_now()} for lang in todo})
            result = self._generator.generate(*self._sources(item), todo, module=module, version=item["version"],
                                              go_package_prefix=item.get("go_package_prefix"),
                                              descriptor_set=self._blobs.get_descriptor_set(
                                                  item["descriptor_set_sha256"]))
        except Exception as error:
            if final_attempt:
                self._registry.set_compilation(org_id, module, sort_key, {lang: {
                    "status": "failed", "job": job, "error": f"compile job failed: {type(error).__name__}",
                    "updated_at": utc_now()} for lang in todo})
            raise
        statuses = {}
        for language, output in result.outputs.items():
            if output.ok:
                sha256 = self._blobs.put_artifact(output.zip_bytes)
                statuses[language] = {"status": "succeeded", "job": job, "sha256": sha256,
                                      "size": len(output.zip_bytes), "updated_at": utc_now()}
            else:
                statuses[language] = {"status": "failed", "job": job, "error": (output.error or "")[:ERROR_LIMIT],
                                      "updated_at": utc_now()}
        updated = self._registry.set_compilation(org_id, module, sort_key, statuses, unless_job_finished=job)
        self._announce_if_done(updated, job)
        return updated

    def _announce_if_done(self, item: dict[str, Any] | None, job: str) -> None:
        """Once every language of a job has finished: version.compiled, or version.compilation_failed."""
        if item is None:
            return
        mine = {lang: s for lang, s in item.get("compilation", {}).items() if s.get("job") == job}
        if not mine or any(s["status"] in ("pending", "running") for s in mine.values()):
            return
        failed = sorted(lang for lang, s in mine.items() if s["status"] == "failed")
        data = {"module": item["module"], "version": item["version"], "job": job,
                "succeeded": sorted(lang for lang, s in mine.items() if s["status"] == "succeeded"),
                "failed": {lang: mine[lang].get("error", "") for lang in failed}}
        self._events.emit(item["org_id"], "version.compilation_failed" if failed else "version.compiled", data)

    def _sources(self, item: dict[str, Any]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        def files_of(manifest_sha: str) -> dict[str, bytes]:
            return {f["path"]: self._blobs.get_blob(f["sha256"]) for f in self._blobs.get_manifest(manifest_sha)}

        dependency_files: dict[str, bytes] = {}
        for dependency in item.get("resolved_dependencies", []):
            dependency_files.update(files_of(dependency["manifest_sha256"]))
        return files_of(item["manifest_sha256"]), dependency_files

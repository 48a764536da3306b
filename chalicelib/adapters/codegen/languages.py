"""The outputs Spoke compiles to, and what a generation returns."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field




TIMEOUT_SECONDS = 120
ERROR_LIMIT = 4096
MANIFEST_NAME = "spoke-manifest.json"
MANIFEST_SCHEMA = 1
DESCRIPTOR_SET_NAME = "descriptor_set.binpb"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
GRPC_TOOLS = "grpcio-tools"


@dataclass(frozen=True)
class Language:
    """One output. `protoc_flags` are protoc's arguments, `{out}` standing for the output directory."""
    name: str
    description: str
    protoc_flags: tuple[str, ...]
    plugin: str | None = None            # a protoc plugin binary the flags need (besides protoc)
    grpc: str | None = None              # what makes gRPC stubs: a plugin binary, or "grpcio-tools"
    grpc_flags: tuple[str, ...] = ()
    runtime_note: str = ""


LANGUAGES: dict[str, Language] = {language.name: language for language in (
    Language("go", "Go: <file>.pb.go, and <file>_grpc.pb.go for files with services; go.mod",
             ("--go_out={out}", "--go_opt=paths=source_relative"), plugin="protoc-gen-go",
             grpc="protoc-gen-go-grpc", grpc_flags=("--go-grpc_out={out}", "--go-grpc_opt=paths=source_relative"),
             runtime_note="google.golang.org/protobuf at protoc-gen-go's version; google.golang.org/grpc "
                          "for the gRPC stubs (both in go.mod)"),
    Language("python", "Python: <file>_pb2.py, and <file>_pb2_grpc.py for files with services; requirements.txt",
             ("--python_out={out}",), grpc=GRPC_TOOLS,
             runtime_note="protobuf >= the gencode version, same major; grpcio for the gRPC stubs"),
    Language("pyi", "Python type stubs: <file>_pb2.pyi", ("--pyi_out={out}",),
             runtime_note="stubs for the python output; protobuf as for python"),
    Language("java", "Java: <java_package>/<OuterClass>.java (or one file per type with java_multiple_files)",
             ("--java_out={out}",), runtime_note="com.google.protobuf:protobuf-java at the gencode version"),
    Language("kotlin", "Kotlin DSL: <OuterClass>Kt.proto.kt and <Message>Kt.kt, with the Java classes they extend",
             ("--java_out={out}", "--kotlin_out={out}"),
             runtime_note="com.google.protobuf:protobuf-kotlin (and protobuf-java) at the gencode version"),
    Language("cpp", "C++: <file>.pb.h and <file>.pb.cc", ("--cpp_out={out}",),
             runtime_note="libprotobuf of exactly the gencode version (PROTOBUF_VERSION is checked)"),
    Language("csharp", "C#: <Namespace dirs>/<File>.cs", ("--csharp_out={out}", "--csharp_opt=base_namespace="),
             runtime_note="NuGet Google.Protobuf"),
    Language("ruby", "Ruby: <file>_pb.rb", ("--ruby_out={out}",), runtime_note="gem google-protobuf"),
    Language("php", "PHP: one class per message/enum under its namespace, GPBMetadata/<File>.php per file",
             ("--php_out={out}",), runtime_note="composer google/protobuf"),
    Language("objc", "Objective-C: <File>.pbobjc.h and <File>.pbobjc.m", ("--objc_out={out}",),
             runtime_note="the Protobuf pod / library sources, GOOGLE_PROTOBUF_OBJC_VERSION checked"),
    Language("descriptor_set", f"The FileDescriptorSet ({DESCRIPTOR_SET_NAME}), imports and source info included",
             (f"--descriptor_set_out={{out}}/{DESCRIPTOR_SET_NAME}", "--include_imports", "--include_source_info"),
             runtime_note="google/protobuf/descriptor.proto FileDescriptorSet; no runtime needed"),
)}

# Runtime major version per language for protoc 36.x (the layer's pin), after protobuf.dev's
# version-support table: used only where the generated code does not state its version (it does for
# Python, Java and C++, whose headers win over this table).
RUNTIME_MAJOR = {"python": 7, "cpp": 7, "java": 4, "kotlin": 4, "csharp": 3, "ruby": 4, "php": 4, "objc": 4}
# The oldest google.golang.org/grpc that provides grpc.SupportPackageIsVersionN.
GRPC_GO_SUPPORT_PACKAGE = {7: "v1.32.0"}


# --- results ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LanguageOutput:
    language: str
    zip_bytes: bytes | None = None
    error: str | None = None
    files: tuple[str, ...] = ()          # generated files in the ZIP (manifest and extras aside)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.zip_bytes is not None

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.zip_bytes).hexdigest() if self.zip_bytes is not None else None


@dataclass(frozen=True)
class GenerationResult:
    outputs: dict[str, LanguageOutput]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> list[str]:
        return [name for name, output in self.outputs.items() if output.ok]

    @property
    def failed(self) -> dict[str, str]:
        return {name: output.error or "" for name, output in self.outputs.items() if not output.ok}

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
    # gRPC from a grpc plugin of the layer: the names its binary may have (the first found wins), the
    # protoc plugin name its flags use (one per language, so one protoc run drives them all), and the
    # key of spoke-protoc-layer.json's `grpc_plugins` that lists it.
    grpc_binaries: tuple[str, ...] = ()
    grpc_protoc_name: str = ""
    grpc_layer_key: str = ""


JAVA_GRPC = ("protoc-gen-grpc-java", "grpc_java_plugin")  # the layer's name, Debian's name

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
             ("--java_out={out}",), grpc="protoc-gen-grpc-java", grpc_flags=("--grpc-java_out={out}",),
             grpc_binaries=JAVA_GRPC, grpc_protoc_name="protoc-gen-grpc-java", grpc_layer_key="java",
             runtime_note="com.google.protobuf:protobuf-java at the gencode version; io.grpc for the stubs"),
    Language("kotlin", "Kotlin DSL: <OuterClass>Kt.proto.kt and <Message>Kt.kt, with the Java classes they extend",
             ("--java_out={out}", "--kotlin_out={out}"), grpc="protoc-gen-grpc-java",
             grpc_flags=("--grpc-java_out={out}",), grpc_binaries=JAVA_GRPC,
             grpc_protoc_name="protoc-gen-grpc-java", grpc_layer_key="java",
             runtime_note="com.google.protobuf:protobuf-kotlin (and protobuf-java) at the gencode version"),
    Language("cpp", "C++: <file>.pb.h and <file>.pb.cc, and <file>.grpc.pb.h/.cc for files with services",
             ("--cpp_out={out}",), grpc="grpc_cpp_plugin", grpc_flags=("--grpc-cpp_out={out}",),
             grpc_binaries=("grpc_cpp_plugin",), grpc_protoc_name="protoc-gen-grpc-cpp", grpc_layer_key="cpp",
             runtime_note="libprotobuf of exactly the gencode version (PROTOBUF_VERSION is checked)"),
    Language("csharp", "C#: <Namespace dirs>/<File>.cs, and <File>Grpc.cs for files with services",
             ("--csharp_out={out}", "--csharp_opt=base_namespace="), grpc="grpc_csharp_plugin",
             grpc_flags=("--grpc-csharp_out={out}",),  # grpc_csharp_plugin 1.51 has no base_namespace
             grpc_binaries=("grpc_csharp_plugin",), grpc_protoc_name="protoc-gen-grpc-csharp", grpc_layer_key="csharp",
             runtime_note="NuGet Google.Protobuf"),
    Language("ruby", "Ruby: <file>_pb.rb, and <file>_services_pb.rb for files with services", ("--ruby_out={out}",),
             grpc="grpc_ruby_plugin", grpc_flags=("--grpc-ruby_out={out}",), grpc_binaries=("grpc_ruby_plugin",),
             grpc_protoc_name="protoc-gen-grpc-ruby", grpc_layer_key="ruby",
             runtime_note="gem google-protobuf; gem grpc for the stubs"),
    Language("php", "PHP: one class per message/enum under its namespace, GPBMetadata/<File>.php per file, "
                    "<Service>Client.php per service",
             ("--php_out={out}",), grpc="grpc_php_plugin", grpc_flags=("--grpc-php_out={out}",),
             grpc_binaries=("grpc_php_plugin",), grpc_protoc_name="protoc-gen-grpc-php", grpc_layer_key="php",
             runtime_note="composer google/protobuf; grpc/grpc for the stubs"),
    Language("objc", "Objective-C: <File>.pbobjc.h and <File>.pbobjc.m, and <File>.pbrpc.h/.m for files with services",
             ("--objc_out={out}",), grpc="grpc_objective_c_plugin", grpc_flags=("--grpc-objc_out={out}",),
             grpc_binaries=("grpc_objective_c_plugin",), grpc_protoc_name="protoc-gen-grpc-objc",
             grpc_layer_key="objc",
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

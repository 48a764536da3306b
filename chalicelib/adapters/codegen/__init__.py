"""Generates code for a published version in every supported language, one ZIP per language.

Used by the compile function, which runs with the protoc Lambda layer (layers/protoc) at /opt.

How a generation runs:
1. The version's files go under one include root, its dependencies' files under another; the
   layer's well-known types (../include beside protoc's binary) come first on the include path, so
   nothing uploaded can replace them. protoc runs through `adapters.protoc.run_protoc` only.
2. One protoc pass writes the FileDescriptorSet (imports and source info included). It validates the
   sources once for every language, is the `descriptor_set` output, and tells which files have
   services and which Go import path each file has (`go_package`, else `go_package_prefix`).
3. One protoc run produces every other requested language, each into its own directory. Only the
   version's own files are inputs; dependencies are on the include path only. If that run fails, each
   language is run on its own, so one failing generator or plugin fails only its language.
   Python gRPC stubs come from grpcio-tools (`python -m grpc_tools.protoc --grpc_python_out`), a
   separate run, when grpcio-tools is importable and a file has services. The other languages' stubs
   come from the layer's gRPC plugins (spoke-protoc-layer.json `grpc_plugins`: grpc_cpp/csharp/ruby/
   php/objective_c_plugin, protoc-gen-grpc-java for Java and Kotlin), each under a protoc plugin name of
   its own (`--plugin=protoc-gen-grpc-cpp=... --grpc-cpp_out=...`) so one run drives them all, only
   when a file has services. A missing plugin gives messages only: the manifest (`grpc.generated:
   false`), the compile status (`notes`) and /languages (`grpc.available: false`) say so.
   A generation may name a protoc release the layer carries (releases.py): its protoc and well-known
   types run with the same plugins; editions with a release before 27.x fail every language clearly.
4. Each language's output is packed into a deterministic ZIP (sorted entries, fixed timestamps and
   modes) with `spoke-manifest.json` (module, version, generator versions, per-file sha256, the
   runtime the code needs, and `dependencies`: the ZIP of each module of the dependency closure to unpack
   beside it, with its download path) and, for Python, `requirements.txt` and `pyproject.toml`
   (pip-installable: `spoke-<org slug>-<module>`), for Java, `pom.xml`, for Go, `go.mod` (requiring each
   dependency module's Go module; a go.work beside the unpacked ZIPs resolves them).

Layout choices:
- Every language writes under its natural paths, relative to the ZIP's root: Python, pyi, Ruby, C++,
  Objective-C and Go beside the .proto path (`acme/shop/v1/order_pb2.py`); Java and Kotlin under their
  Java package; C# and PHP under their namespace (C# with `base_namespace=`, so that files of the same
  name in different packages do not collide).
- Go uses `paths=source_relative`: `acme/shop/v1/order.proto` gives `acme/shop/v1/order.pb.go`
  whatever its import path, one predictable file per .proto. A file without `go_package` gets the
  import path `<go_package_prefix>/<dir of the file>` (protoc `M` flags, for dependencies too), so with
  a registry-wide prefix the ZIP is a ready Go module: `go.mod` declares `module <prefix>` and
  `<prefix>/acme/shop/v1` is the package of `acme/shop/v1/*.proto`. Each module is its own Go module:
  its ZIP and its dependencies' unpack side by side (`<module>/`) under one go.work, as the closure ZIP
  (`?with_dependencies=true`, domain/zips.py) lays them out. `go.mod` is written whenever the import
  paths agree with the layout; when a file's own `go_package` does not, the manifest says so and
  lists each file's import path instead.
"""
from chalicelib.adapters.codegen.generator import CodeGenerator
from chalicelib.adapters.codegen.languages import (
                                                   DESCRIPTOR_SET_NAME,
                                                   LANGUAGES,
                                                   MANIFEST_NAME,
                                                   GenerationResult,
                                                   Language,
                                                   LanguageOutput,
)
from chalicelib.adapters.codegen.packaging import (
                                                   build_manifest,
                                                   check_proto_paths,
                                                   deterministic_zip,
                                                   go_import_plan,
                                                   go_m_flags,
                                                   go_module_root,
                                                   manifest_bytes,
                                                   render_go_mod,
                                                   runtime_requirements,
                                                   trim_error,
)

__all__ = ["CodeGenerator", "DESCRIPTOR_SET_NAME", "LANGUAGES", "MANIFEST_NAME", "GenerationResult", "Language",
           "LanguageOutput", "build_manifest", "check_proto_paths", "deterministic_zip", "manifest_bytes",
           "go_import_plan", "go_m_flags", "go_module_root", "render_go_mod", "runtime_requirements", "trim_error"]

//! Generates the tfplugin6 and go-plugin gRPC code from `proto/*.proto`
//! using the protoc binary shipped by `protoc-bin-vendored`, so no system
//! protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    // prost-build reads PROTOC; build scripts are single-threaded.
    std::env::set_var("PROTOC", protoc);

    let protos = [
        "proto/tfplugin6.proto",
        "proto/grpc_controller.proto",
        "proto/grpc_stdio.proto",
    ];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Unimplemented RPCs answer UNIMPLEMENTED, so providers override only
        // what they support.
        .generate_default_stubs(true)
        .compile_protos(
            &protos.map(std::path::PathBuf::from),
            &[std::path::PathBuf::from("proto"), include],
        )?;
    Ok(())
}

//! The app embeds the Yew bundle (`app-ui/dist`) at compile time; it must be built first.

fn main() {
    let dist = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("../app-ui/dist/index.html");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.exists() {
        panic!(
            "app-ui/dist is missing: build the Yew front end first with `cargo xtask ui` \
             (`cargo xtask test` and `cargo xtask app` do it for you)"
        );
    }
    tauri_build::build();
}

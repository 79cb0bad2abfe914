//! The front end shared by the inspector's tablet app and the supervisors' console (Yew,
//! compiled to wasm). It is filled by the inspector-app issue; until then it holds nothing,
//! and no screen exists.

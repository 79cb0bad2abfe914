//! `casefile verify <file> [--expect-key HEX]... [--trusted-keys FILE] [--key-history FILE]`
//!
//! Checks a case file offline and prints the report in Chinese and English. Exit codes:
//! 0 every check holds; 1 usage error or the file cannot be opened; 2 not a valid case file
//! (structure or manifest); 3 content does not match (files, audit trail, record); 4 the
//! signature does not hold; 5 the signing key is not trusted, or no trusted key was given.
//! Nothing is written: the file is only read.

use casefile::{TrustedKey, VerifyOptions};
use std::process::ExitCode;

const USAGE: &str =
    "usage: casefile verify <case-file.zip> [--expect-key HEX]... [--trusted-keys FILE]
                       [--key-history FILE]

  --expect-key HEX     the Ed25519 public key (64 hex characters) the case file must be
                       signed with; may be given more than once
  --trusted-keys FILE  a file of trusted public keys, one per line: HEX [label]
  --key-history FILE   the server's key history (server-keys.json, from the console): the
                       keys linked to a trusted key are trusted too (every key change is
                       signed by both keys), and a case file must fall within its key's
                       validity period

用法：casefile verify <案卷.zip> [--expect-key 公钥] [--trusted-keys 文件] [--key-history 密钥历史文件]
exit codes 退出码: 0 all holds 全部通过, 1 usage 用法错误, 2 not a valid case file 不是有效案卷,
3 content changed 内容不符, 4 signature invalid 签名无效, 5 key not trusted 公钥不可信";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("casefile: {message}\n\n{USAGE}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Vec<String>) -> Result<u8, String> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("verify") => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return Ok(0);
        }
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".into()),
    }
    let mut file = None;
    let mut options = VerifyOptions::default();
    let mut history = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--expect-key" => {
                let hex = args.next().ok_or("--expect-key needs a value")?;
                let key = casefile::manifest::parse_public_key(&hex).ok_or_else(|| {
                    format!("--expect-key {hex:?} is not an Ed25519 public key (64 hex characters)")
                })?;
                options.trusted_keys.push(TrustedKey {
                    key,
                    label: "--expect-key".into(),
                });
            }
            "--trusted-keys" => {
                let path = args.next().ok_or("--trusted-keys needs a file")?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the trusted keys file {path}: {e}"))?;
                options.trusted_keys.extend(
                    VerifyOptions::parse_trusted_keys(&text).map_err(|e| format!("{path}: {e}"))?,
                );
            }
            "--key-history" => {
                let path = args.next().ok_or("--key-history needs a file")?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the key history {path}: {e}"))?;
                history =
                    Some(casefile::KeyHistory::parse(&text).map_err(|e| format!("{path}: {e}"))?);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if file.is_none() => file = Some(path.to_owned()),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    let path = file.ok_or("no case file given")?;
    let input = std::fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let report = match &history {
        Some(history) => casefile::verify_with_history(input, &options, history),
        None => casefile::verify(input, &options),
    };
    println!("文件 File: {path}\n");
    print!("{}", report.render_zh_en());
    Ok(report.exit_code() as u8)
}

//! Fuzz target: arbitrary bytes as a site.toml → decode → parse and resolve → render the bundle.
//! Must never panic or hang, whatever the input; errors are fine (they are the expected outcome for
//! almost every input).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same decoding `sitebundle build` applies to the file's bytes (UTF-8, BOM tolerated,
    // UTF-16 and NUL refused), then the full pipeline.
    let Ok(text) = sitebundle::site::decode(data) else {
        return;
    };
    match sitebundle::load_text("fuzz.toml", &text) {
        Ok((site, warnings)) => {
            let _ = warnings.render();
            if let Ok(bundle) = sitebundle::build_bundle(&site) {
                assert!(bundle.files.contains_key(sitebundle::bundle::MANIFEST));
            }
        }
        Err(diags) => {
            // Rendering the diagnostics (line/column lookup, caret) must not panic either.
            let _ = diags.render();
        }
    }
});

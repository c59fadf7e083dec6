#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatguard_fuzz::checks::rules_parse(data));

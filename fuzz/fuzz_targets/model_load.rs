#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatguard_fuzz::checks::model_load(data));

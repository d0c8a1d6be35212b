#pragma once
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that has its own `main` (a Swift `@main`): parses the
/// libFuzzer flags in argv and calls `callback` with each input. Linked from
/// `libclang_rt.fuzzer_no_main`; `-sanitize=fuzzer` would link libFuzzer's own `main` instead,
/// which clashes with the one SwiftPM gives every executable target.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

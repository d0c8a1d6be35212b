// The declaration is all there is (CFuzzDriver.h); a C target needs one source file.

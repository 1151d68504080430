// Empty: this target exists only to build the shared precompiled header.

//! Example programs; each is a binary in `src/bin`.

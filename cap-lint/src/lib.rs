//! `cap-lint`: see the workspace README.

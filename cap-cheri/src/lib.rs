//! `cap-cheri`: see the workspace README.

//! `cap-macros`: see the workspace README.

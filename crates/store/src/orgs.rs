//! Organisations and their wrapped data keys.

//! Placeholder: the hubspot connector tests are being written.

//! Placeholder: the nowcerts connector tests are being written.

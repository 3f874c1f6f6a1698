//! kubeconfig: reading, merging and resolving client configuration the way client-go does.

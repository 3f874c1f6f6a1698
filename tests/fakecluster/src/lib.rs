//! fakecluster: a Kubernetes API server double for kdebug's tests, benchmarks and demo.

//! Small in-process HTTP servers on `127.0.0.1:0` that a test scripts with an axum router: the
//! answers Prism cannot give (several matches, slow or huge or broken answers, 429s), and a record
//! of what the connector asked.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Uri};

/// A running fake; stops when dropped.
pub(crate) struct Fake {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` until dropped.
pub(crate) async fn serve(router: Router) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Fake { base, task }
}

/// One request a fake saw: its path and query, and its `Authorization`.
pub(crate) type Request = (String, Option<String>);

/// What a fake saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen(Arc<Mutex<Vec<Request>>>);

impl Seen {
    /// Records one request.
    pub(crate) fn record(&self, uri: &Uri, headers: &HeaderMap) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.0.lock().unwrap().push((uri.to_string(), auth));
    }

    /// The requests whose path starts with `prefix`.
    pub(crate) fn to(&self, prefix: &str) -> Vec<Request> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(uri, _)| uri.starts_with(prefix))
            .cloned()
            .collect()
    }
}

//! `netsec serve` as a user starts it: the real binary on `127.0.0.1:0`, its start lines (the
//! bound URL, the model) and its access lines on stderr, read back by the test.

mod common;

use common::server::{http_get, Server};
use common::*;

#[test]
fn start_lines_name_the_bound_url_and_model_and_verbose_logs_each_request_without_its_query() {
    let repo = temp_repo(true);
    let mut server = Server::start(repo.path(), &["-v"]);
    let url = server.url();
    let model = server.wait_line("Model ");
    assert!(
        model.contains("(forest, test F1 0.") && model.contains("final_model/bundle.json"),
        "{model}"
    );

    let (status, body) = http_get(&url, "/health?token=s3cret-in-query");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"model_loaded\":true"), "{body}");
    let access = server.wait_line("GET /health 200 ");
    assert!(access.contains("INFO"), "{access}");
    assert!(
        access.ends_with('B') && access.contains("ms "),
        "duration and bytes missing: {access}"
    );
    let (status, _) = http_get(&url, "/no-such-page?token=s3cret-in-query");
    assert!(status.contains("404"), "{status}");
    server.wait_line("GET /no-such-page 404 ");

    let stderr = server.stop();
    assert!(
        !stderr.contains("s3cret-in-query"),
        "the query string reached the log:\n{stderr}"
    );
}

#[test]
fn default_verbosity_shows_the_start_lines_and_no_model_yet_but_no_access_lines() {
    let repo = temp_repo(false);
    let mut server = Server::start(repo.path(), &[]);
    let url = server.url();
    server.wait_line("no model yet");
    let (status, body) = http_get(&url, "/health");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"model_loaded\":false"), "{body}");
    let stderr = server.stop();
    assert!(
        !stderr.contains("GET /health"),
        "access line at default verbosity:\n{stderr}"
    );
}

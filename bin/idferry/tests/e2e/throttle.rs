//! Pacing: a client that has read a tenant's rate-limit headers stops meeting 429s, and
//! tokens are refreshed before they expire.

use idferry_auth0::catalog::find;
use idferry_emulator::TenantOptions;
use serde_json::json;

use crate::common::{cc_client, start};

#[tokio::test]
async fn the_client_paces_itself_to_the_headers() {
    let mut o = TenantOptions::new("t");
    o.rate_limit = 25.0;
    o.burst = 5;
    let emu = start(vec![o]).await;
    let t = &emu.tenants()[0];
    t.with(|s| {
        let table = s.table("organizations", "");
        for i in 0..3000 {
            let id = format!("org_{i:016}");
            table.insert(id.clone(), json!({"id": id, "name": format!("o{i}")}));
        }
    });
    let client = cc_client(t);
    let orgs = client
        .list_all(find("organizations").unwrap(), &[])
        .await
        .unwrap();
    assert_eq!(orgs.len(), 3000);
    assert_eq!(client.stats().rate_limited, 0, "{:?}", client.stats());
    assert_eq!(t.stats().rate_limited, 0);
    assert_eq!(client.stats().requests, 31, "30 pages and a token");
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let mut o = TenantOptions::new("t");
    o.token_ttl_secs = 2;
    let emu = start(vec![o]).await;
    let client = cc_client(&emu.tenants()[0]);
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(2500) {
        client.get("/roles", &[]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(client.stats().tokens_fetched >= 2, "{:?}", client.stats());
}

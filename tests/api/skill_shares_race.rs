//! The race the database decides: 200 members sign up for 10 places at the same moment. Exactly
//! 10 get a place, 190 wait with positions 1..=190 without gaps or repeats, and when one of the
//! 10 leaves, exactly the first on the waitlist moves up. Runs on SQLite and, in CI, on
//! PostgreSQL (where the requests truly run at once, on several connections). A request the
//! server sheds (503 with Retry-After, nothing written) is retried as a client would; the count
//! is printed.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::sessions::{cohort, in_days, one_off};
use crate::skill_shares::offered;

#[tokio::test]
async fn two_hundred_sign_ups_at_once_for_ten_places_give_ten_in_and_a_gapless_waitlist() {
    let app = spawn_app().await;
    let c = cohort(&app, "UTC").await;
    let session = one_off(&app, &c, &format!("{}T18:00", in_days(&app, 1)), 90).await;
    let slot =
        offered(&app, &session, &c.member.access_token, json!({"title": "Race", "minutes": 20, "capacity": 10})).await;
    let people = app.members_in_bulk(&c.id, 200).await;
    let path = format!("/api/v1/skill-shares/{}/signups", slot["id"].as_str().unwrap());

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(people.len()));
    let tasks: Vec<_> = people
        .iter()
        .map(|person| {
            let (client, url, token, barrier) =
                (app.client.clone(), app.url(&path), person.access_token.clone(), barrier.clone());
            let id = person.id.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                // As a client should: a 503 (the server sheds load past a second's wait for a
                // database connection, having written nothing) is retried after Retry-After.
                let mut retries = 0;
                loop {
                    let response = client.post(&url).bearer_auth(&token).send().await.unwrap();
                    let status = response.status().as_u16();
                    if status == 503 && retries < 20 {
                        let wait = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
                        assert!(wait.is_some(), "a 503 says when to come back");
                        retries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(200 * wait.unwrap_or(1))).await;
                        continue;
                    }
                    return (id, status, response.json::<Value>().await.unwrap_or(Value::Null), retries);
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let statuses: Vec<u16> = results.iter().map(|r| r.1).collect();
    let retried = results.iter().filter(|r| r.3 > 0).count();
    println!("{retried} of 200 sign-ups were shed once or more (503) and retried");
    let refused: Vec<&Value> = results.iter().filter(|r| r.1 != 201).map(|r| &r.2).collect();
    assert!(statuses.iter().all(|s| *s == 201), "every sign-up answers 201: {refused:?}");
    let attending: Vec<&String> = results.iter().filter(|r| r.2["status"] == "attending").map(|r| &r.0).collect();
    assert_eq!(attending.len(), 10, "exactly the places");
    let mut positions: Vec<i64> =
        results.iter().filter(|r| r.2["status"] == "waitlisted").map(|r| r.2["position"].as_i64().unwrap()).collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=190).collect::<Vec<i64>>(), "positions 1..190 without gaps or repeats");

    // The list agrees with what each answer said.
    let list: Value = app.get_as(&path, &c.organizer.access_token).await.json().await.unwrap();
    let listed: HashSet<&str> =
        list["attending"].as_array().unwrap().iter().map(|s| s["user"]["id"].as_str().unwrap()).collect();
    assert_eq!(listed, attending.iter().map(|s| s.as_str()).collect::<HashSet<_>>());
    let waitlist = list["waitlist"].as_array().unwrap();
    assert_eq!(waitlist.len(), 190);
    let first_waiting = waitlist[0]["user"]["id"].as_str().unwrap().to_string();
    let answered_first = results.iter().find(|r| r.2["position"] == 1).unwrap();
    assert_eq!(first_waiting, answered_first.0, "the one told position 1 is first in the list");

    // One of the ten leaves: exactly the first on the waitlist moves up; the rest move one on.
    let leaver = people.iter().find(|p| &p.id == attending[0]).unwrap();
    let left = app.delete_as(&format!("{path}/me"), &leaver.access_token).await;
    assert_eq!(left.status(), 204);
    let after: Value = app.get_as(&path, &c.organizer.access_token).await.json().await.unwrap();
    let now_in: HashSet<&str> =
        after["attending"].as_array().unwrap().iter().map(|s| s["user"]["id"].as_str().unwrap()).collect();
    assert_eq!(now_in.len(), 10);
    assert!(now_in.contains(first_waiting.as_str()), "the first waiting has the freed place");
    assert!(!now_in.contains(leaver.id.as_str()));
    let positions: Vec<i64> =
        after["waitlist"].as_array().unwrap().iter().map(|s| s["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=189).collect::<Vec<i64>>());
    assert_eq!(after["waitlist"][0]["user"]["id"], waitlist[1]["user"]["id"], "the second is now first");
}

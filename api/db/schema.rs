// One schema for both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_lower -> Text,
        password_hash -> Text,
        display_name -> Text,
        time_zone -> Text,
        locale -> Text,
        email_verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    auth_sessions (id) {
        id -> Text,
        user_id -> Text,
        method -> Text,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    action_links (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Text,
        action -> Text,
        object_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbound_mail (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        kind -> Nullable<Text>,
        list_id -> Nullable<Text>,
        unsubscribe_url -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        key -> Text,
        kind -> Text,
        user_id -> Text,
        cohort_id -> Nullable<Text>,
        subject_id -> Text,
        occurs_at -> Nullable<Timestamp>,
        planned_at -> Timestamp,
        status -> Text,
        reason -> Nullable<Text>,
        data -> Text,
        mail_id -> Nullable<Text>,
        created_at -> Timestamp,
        queued_at -> Nullable<Timestamp>,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stream_cursors (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        cohort_id -> Nullable<Text>,
        subject_type -> Text,
        subject_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        seq -> Nullable<BigInt>,
        audience -> Text,
    }
}

diesel::table! {
    instance_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    cohorts (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        time_zone -> Text,
        locale -> Text,
        created_by -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        agenda_template -> Nullable<Text>,
        pair_every_sessions -> Nullable<Integer>,
        skill_shares_need_approval -> Bool,
    }
}

diesel::table! {
    memberships (cohort_id, user_id) {
        cohort_id -> Text,
        user_id -> Text,
        role -> Text,
        state -> Text,
        joined_at -> Timestamp,
        state_changed_at -> Timestamp,
        removed_by -> Nullable<Text>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        cohort_id -> Text,
        email -> Text,
        email_lower -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invite_links (id) {
        id -> Text,
        cohort_id -> Text,
        code_hash -> Text,
        code_hint -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    personal_access_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        token_hash -> Text,
        token_hint -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    charter_versions (id) {
        id -> Text,
        cohort_id -> Text,
        number -> Nullable<Integer>,
        state -> Text,
        author_id -> Nullable<Text>,
        based_on_id -> Nullable<Text>,
        mission -> Text,
        goals -> Text,
        weekly_minutes -> Integer,
        learning_formats -> Text,
        other_learning_formats -> Text,
        norms -> Text,
        confidentiality -> Text,
        project_kinds -> Text,
        review_every -> Integer,
        review_unit -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        adopted_at -> Nullable<Timestamp>,
        adopted_by -> Nullable<Text>,
    }
}

diesel::table! {
    charter_comments (id) {
        id -> Text,
        version_id -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    charter_endorsements (version_id, user_id) {
        version_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    charter_acceptances (version_id, user_id) {
        version_id -> Text,
        user_id -> Text,
        accepted_at -> Timestamp,
    }
}

diesel::table! {
    charter_reviews (id) {
        id -> Text,
        cohort_id -> Text,
        version_id -> Text,
        reviewed_by -> Nullable<Text>,
        note -> Text,
        reviewed_at -> Timestamp,
    }
}

diesel::table! {
    charter_review_notices (cohort_id, due_on) {
        cohort_id -> Text,
        due_on -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    session_series (id) {
        id -> Text,
        cohort_id -> Text,
        title -> Text,
        rrule -> Text,
        starts_on -> Text,
        local_time -> Text,
        duration_minutes -> Integer,
        location -> Text,
        ends_before -> Nullable<Text>,
        materialized_until -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        cohort_id -> Text,
        series_id -> Nullable<Text>,
        occurrence_key -> Nullable<Text>,
        title -> Text,
        location -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        agenda -> Text,
        notes -> Text,
        notes_published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notes_author_id -> Nullable<Text>,
    }
}

diesel::table! {
    session_rsvps (session_id, user_id) {
        session_id -> Text,
        user_id -> Text,
        response -> Text,
        note -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    session_attendance (session_id, user_id) {
        session_id -> Text,
        user_id -> Text,
        status -> Text,
        recorded_by -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    session_action_items (id) {
        id -> Text,
        session_id -> Text,
        position -> Integer,
        text -> Text,
        owner_id -> Nullable<Text>,
        due_on -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    duty_roles (id) {
        id -> Text,
        cohort_id -> Text,
        name -> Text,
        position -> Integer,
        min_attended -> Integer,
        facilitation -> Bool,
        retired_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    absences (id) {
        id -> Text,
        cohort_id -> Text,
        user_id -> Text,
        session_id -> Nullable<Text>,
        from_on -> Nullable<Text>,
        to_on -> Nullable<Text>,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        cohort_id -> Text,
        session_id -> Text,
        role_id -> Text,
        user_id -> Nullable<Text>,
        locked -> Bool,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    swap_requests (id) {
        id -> Text,
        cohort_id -> Text,
        assignment_id -> Text,
        kind -> Text,
        requester_id -> Text,
        peer_id -> Nullable<Text>,
        peer_assignment_id -> Nullable<Text>,
        state -> Text,
        expires_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    coaching_pairs (id) {
        id -> Text,
        cohort_id -> Text,
        cycle -> Integer,
        coach_id -> Text,
        coachee_id -> Text,
        third_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    coaching_cycles (cohort_id, cycle) {
        cohort_id -> Text,
        cycle -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        until -> Timestamp,
    }
}

diesel::table! {
    rota_horizons (cohort_id) {
        cohort_id -> Text,
        planned_until -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    experiments (id) {
        id -> Text,
        cohort_id -> Text,
        owner_id -> Text,
        title -> Text,
        success_signal -> Text,
        due_session_id -> Nullable<Text>,
        due_on -> Nullable<Text>,
        metric_name -> Nullable<Text>,
        metric_unit -> Nullable<Text>,
        metric_target -> Nullable<Double>,
        visibility -> Text,
        buddy_id -> Nullable<Text>,
        state -> Text,
        drop_reason -> Nullable<Text>,
        outcome_result -> Nullable<Text>,
        outcome_learned -> Nullable<Text>,
        outcome_next_step -> Nullable<Text>,
        seeded_from_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    experiment_check_ins (id) {
        id -> Text,
        experiment_id -> Text,
        done -> Text,
        next -> Text,
        blockers -> Text,
        value -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    experiment_comments (id) {
        id -> Text,
        experiment_id -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    experiment_help_offers (id) {
        id -> Text,
        experiment_id -> Text,
        helper_id -> Text,
        message -> Text,
        state -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    experiment_celebrations (experiment_id, user_id) {
        experiment_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_records (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
        checks -> Nullable<Text>,
        claim_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        headers -> Nullable<Text>,
    }
}

diesel::table! {
    skill_shares (id) {
        id -> Text,
        cohort_id -> Text,
        session_id -> Text,
        presenter_id -> Text,
        title -> Text,
        summary -> Text,
        minutes -> Integer,
        capacity -> Nullable<Integer>,
        experiment_id -> Nullable<Text>,
        status -> Text,
        next_arrival -> Integer,
        approved_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    skill_share_signups (skill_share_id, user_id) {
        skill_share_id -> Text,
        user_id -> Text,
        status -> Text,
        arrival -> Integer,
        added_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (user_id, kind) {
        user_id -> Text,
        kind -> Text,
        email -> Bool,
        lead_minutes -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_settings (user_id) {
        user_id -> Text,
        digest -> Text,
        quiet_start -> Nullable<Text>,
        quiet_end -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> Text,
        user_id -> Text,
        cohort_id -> Nullable<Text>,
        scope -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feed_revisions (subject_id) {
        subject_id -> Text,
        sequence -> Integer,
        changed_at -> Timestamp,
    }
}

diesel::joinable!(auth_sessions -> users (user_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(experiment_check_ins -> experiments (experiment_id));
diesel::joinable!(skill_shares -> sessions (session_id));
diesel::joinable!(skill_share_signups -> skill_shares (skill_share_id));
diesel::joinable!(duty_roles -> cohorts (cohort_id));
diesel::joinable!(assignments -> sessions (session_id));
diesel::joinable!(assignments -> duty_roles (role_id));
diesel::joinable!(session_series -> cohorts (cohort_id));
diesel::joinable!(sessions -> cohorts (cohort_id));
diesel::joinable!(session_rsvps -> sessions (session_id));
diesel::joinable!(session_attendance -> sessions (session_id));
diesel::joinable!(session_action_items -> sessions (session_id));
diesel::joinable!(charter_versions -> cohorts (cohort_id));
diesel::joinable!(charter_comments -> charter_versions (version_id));
diesel::joinable!(charter_endorsements -> charter_versions (version_id));
diesel::joinable!(charter_acceptances -> charter_versions (version_id));
diesel::joinable!(charter_reviews -> cohorts (cohort_id));
diesel::joinable!(memberships -> cohorts (cohort_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(invitations -> cohorts (cohort_id));
diesel::joinable!(invite_links -> cohorts (cohort_id));
diesel::joinable!(personal_access_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(action_links -> users (user_id));

diesel::table! {
    webhooks (id) {
        id -> Text,
        cohort_id -> Text,
        url -> Text,
        events -> Text,
        description -> Text,
        enabled -> Bool,
        after_seq -> BigInt,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        seq -> BigInt,
        kind -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        response_status -> Nullable<Integer>,
        latency_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhooks -> cohorts (cohort_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    auth_sessions,
    refresh_tokens,
    one_time_tokens,
    action_links,
    outbound_mail,
    notifications,
    stream_cursors,
    events,
    instance_settings,
    cohorts,
    memberships,
    invitations,
    invite_links,
    personal_access_tokens,
    charter_versions,
    charter_comments,
    charter_endorsements,
    charter_acceptances,
    charter_reviews,
    charter_review_notices,
    session_series,
    sessions,
    session_rsvps,
    session_attendance,
    session_action_items,
    duty_roles,
    absences,
    assignments,
    swap_requests,
    coaching_pairs,
    coaching_cycles,
    job_leases,
    rota_horizons,
    experiments,
    experiment_check_ins,
    experiment_comments,
    experiment_help_offers,
    experiment_celebrations,
    idempotency_records,
    skill_shares,
    skill_share_signups,
    notification_preferences,
    notification_settings,
    webhooks,
    webhook_deliveries,
    calendar_feeds,
    feed_revisions,
);

diesel::table! {
    /// The sign-in and mail throttle's counters (`auth::throttle`), shared by every replica.
    auth_throttle (key, window_start) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
        expires_at -> Timestamp,
    }
}

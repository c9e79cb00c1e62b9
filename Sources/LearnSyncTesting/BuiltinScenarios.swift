package import Foundation

/// The shipped scenarios, built into the binary: one per real-world case the merge rules cover
/// (`learnsync scenario run --builtin`; the files are `Sources/LearnSyncTesting/Scenarios/`).
package enum BuiltinScenarios {
    /// Each scenario's file name and JSON, in file-name order.
    package static let all: [(file: String, data: Data)] = files.map { ($0.0, Data($0.1)) }

    /// SwiftPM names each embedded file after its name, its first character replaced by `_`.
    /// `ScenarioFormatTests` checks that this list holds every file of the folder.
    private static let files: [(String, [UInt8])] = [
        ("01-guest-to-new-account.json", PackageResources._1_guest_to_new_account_json),
        ("02-guest-to-existing-account.json", PackageResources._2_guest_to_existing_account_json),
        ("03-two-guests-one-account.json", PackageResources._3_two_guests_one_account_json),
        ("04-shared-device-sign-out.json", PackageResources._4_shared_device_sign_out_json),
        ("05-retake-after-reset.json", PackageResources._5_retake_after_reset_json),
        ("06-concurrent-quiz-attempts-offline.json", PackageResources._6_concurrent_quiz_attempts_offline_json),
        ("07-clock-ahead.json", PackageResources._7_clock_ahead_json),
        ("08-server-restart.json", PackageResources._8_server_restart_json),
        ("09-guest-attached-elsewhere.json", PackageResources._9_guest_attached_elsewhere_json),
        ("10-server-clock-behind.json", PackageResources._0_server_clock_behind_json),
        ("11-newer-app-catalog.json", PackageResources._1_newer_app_catalog_json),
        ("12-restored-phone.json", PackageResources._2_restored_phone_json),
        ("13-cloned-phone.json", PackageResources._3_cloned_phone_json),
        ("14-guest-retake-meets-certificate.json", PackageResources._4_guest_retake_meets_certificate_json),
        ("15-account-reset-keeps-guest-work.json", PackageResources._5_account_reset_keeps_guest_work_json),
        ("16-completion-after-reset-on-a-slow-clock.json", PackageResources._6_completion_after_reset_on_a_slow_clock_json),
        ("17-certificate-survives-retake.json", PackageResources._7_certificate_survives_retake_json),
        ("18-account-erased-while-a-tablet-is-offline.json", PackageResources._8_account_erased_while_a_tablet_is_offline_json),
        ("19-later-choice-after-a-clock-jump.json", PackageResources._9_later_choice_after_a_clock_jump_json),
        ("20-restored-phone-first-event-held.json", PackageResources._0_restored_phone_first_event_held_json),
        ("21-certificate-survives-a-new-version.json", PackageResources._1_certificate_survives_a_new_version_json),
        ("22-only-the-newest-version-shipped.json", PackageResources._2_only_the_newest_version_shipped_json),
        ("23-answer-key-corrected-without-a-new-version.json", PackageResources._3_answer_key_corrected_without_a_new_version_json),
        ("24-sign-out-keeps-held-work.json", PackageResources._4_sign_out_keeps_held_work_json),
        ("25-erasure-reaches-an-ended-token.json", PackageResources._5_erasure_reaches_an_ended_token_json),
        ("26-retake-hides-work-held-before-it.json", PackageResources._6_retake_hides_work_held_before_it_json),
        ("27-restored-server-lost-phone.json", PackageResources._7_restored_server_lost_phone_json),
        ("28-account-made-after-the-backup.json", PackageResources._8_account_made_after_the_backup_json),
        ("29-erasure-outlives-a-restore.json", PackageResources._9_erasure_outlives_a_restore_json),
        ("30-live-devices-stay-in-step.json", PackageResources._0_live_devices_stay_in_step_json),
        ("31-live-device-learns-of-an-erasure.json", PackageResources._1_live_device_learns_of_an_erasure_json),
    ]
}

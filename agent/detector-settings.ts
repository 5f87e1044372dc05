/**
 * How the agent's flags choose its detector profile: `--profile lan|wan|local|demo`
 * names the formulas (core/detectors/detector-profiles.ts), `--detector` the mode, and
 * `--heartbeat-interval-ms` / `--missed-heartbeats` still set I and the brief's fixed
 * rule. Without `--profile`, the profile follows the interval: under 500 ms is `local`
 * (loopback, one machine), under 1 s `lan`, otherwise `wan` (whose larger deviation
 * floor and acceptable pause suit slow, jittery links, including the brief's 5 s).
 */
import {
  type DetectorMode,
  type DetectorProfile,
  type ProfileName,
  buildProfile,
  detectorModes,
  profileNames,
} from '../core/detectors/detector-profiles';

/** Heartbeat interval when neither `--heartbeat-interval-ms` nor `--profile` says (the brief's default, ms). */
export const heartbeatIntervalMsDefault = 5000;

/** Detector mode when `--detector` is absent. */
export const detectorModeDefault: DetectorMode = 'phi+indirect';

export { detectorModes, profileNames };

/** The profile whose formulas fit a heartbeat interval (ms). */
export function profileForInterval(heartbeatIntervalMs: number): ProfileName {
  if (heartbeatIntervalMs < 500) return 'local';
  if (heartbeatIntervalMs < 1000) return 'lan';
  return 'wan';
}

/** Resolves the interval and profile name from what the flags gave (either may be missing). */
export function resolveDetectorChoice(given: { profile?: ProfileName; heartbeatIntervalMs?: number }): {
  profile: ProfileName;
  heartbeatIntervalMs: number;
} {
  if (given.profile) {
    const heartbeatIntervalMs = given.heartbeatIntervalMs ?? buildProfile(given.profile, detectorModeDefault).heartbeatIntervalMs;
    return { profile: given.profile, heartbeatIntervalMs };
  }
  const heartbeatIntervalMs = given.heartbeatIntervalMs ?? heartbeatIntervalMsDefault;
  return { profile: profileForInterval(heartbeatIntervalMs), heartbeatIntervalMs };
}

/** The profile an agent runs with: the named formulas at its interval, with its fixed-rule threshold. */
export function agentDetectorProfile(settings: {
  profile: ProfileName;
  detector: DetectorMode;
  heartbeatIntervalMs: number;
  missedHeartbeats: number;
}): DetectorProfile {
  const profile = buildProfile(settings.profile, settings.detector, { heartbeatIntervalMs: settings.heartbeatIntervalMs });
  return { ...profile, fixed: { ...profile.fixed, missedHeartbeatsMax: settings.missedHeartbeats } };
}

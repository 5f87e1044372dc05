/** Kept for the HTTP and realtime modules' imports; recovery lives in server/recovery/. */
export { type RecoveryBroadcaster, openRecoveryStatuses, recoveryPageMax, recoveryReasonLengthMax } from './recovery/recovery-service';

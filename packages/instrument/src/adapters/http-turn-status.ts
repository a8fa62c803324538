import {
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  type TurnEndStatus,
} from '@stall-why/conventions';

/** 499 is the de-facto "client closed request" status (nginx); an app that aborts a turn may answer with it. */
export const HTTP_STATUS_CLIENT_CLOSED_REQUEST = 499;

/**
 * The default mapping of an HTTP response status to a turn's terminal status:
 * 499 → interrupted; other 4xx and all 5xx → failed; everything else (1xx, 2xx, 3xx) → completed.
 *
 * A streaming server has sent `200` long before it knows how the turn ends: such a server ends
 * the turn itself (`turn.endTurn(status)`) before it ends the response, and the middleware then
 * leaves that status alone.
 */
export function turnStatusFromHttp(statusCode: number): TurnEndStatus {
  if (statusCode === HTTP_STATUS_CLIENT_CLOSED_REQUEST) return TURN_END_STATUS_INTERRUPTED;
  if (statusCode >= 400) return TURN_END_STATUS_FAILED;
  return TURN_END_STATUS_COMPLETED;
}

import { Clock } from '../common/time/clock.js';

/**
 * The time against which credentials' `exp` / `nbf` are judged. In the service it is the one
 * injected Clock (AuthModule provides it as an alias). The e2e harness may pin it to real time so
 * that suites moving the clock days ahead keep their (real, short-lived) Keycloak tokens valid,
 * while the authentication suite moves it to test expiry.
 */
export abstract class TokenClock extends Clock {}

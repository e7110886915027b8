import { FaultInjectedError, faultPoint, parseFaultPoints, setFaultPoints } from './fault-points.js';

describe('fault points', () => {
  afterEach(() => setFaultPoints(undefined));

  it('are inert unless named', async () => {
    setFaultPoints('other.point=throw');
    await expect(faultPoint('rotate.intent-recorded')).resolves.toBeUndefined();
  });

  it('throw at a named point, every time by default', async () => {
    setFaultPoints('provision.client-created=throw');
    await expect(faultPoint('provision.client-created')).rejects.toBeInstanceOf(FaultInjectedError);
    await expect(faultPoint('provision.client-created')).rejects.toThrow('fault injected at provision.client-created');
  });

  it('fire only on the Nth hit with @N', async () => {
    setFaultPoints('rotate.secret-stored=throw@2');
    await expect(faultPoint('rotate.secret-stored')).resolves.toBeUndefined();
    await expect(faultPoint('rotate.secret-stored')).rejects.toBeInstanceOf(FaultInjectedError);
    await expect(faultPoint('rotate.secret-stored')).resolves.toBeUndefined();
  });

  it('raise the caller\'s own unavailability error with `unavailable` (a FaultInjectedError where it names none)', async () => {
    setFaultPoints('keycloak.delete-client=unavailable');
    await expect(faultPoint('keycloak.delete-client', () => new RangeError('gone'))).rejects.toThrow(new RangeError('gone'));
    await expect(faultPoint('keycloak.delete-client')).rejects.toBeInstanceOf(FaultInjectedError);
  });

  it('parse pauses and refuse what they cannot read', () => {
    expect(parseFaultPoints('a.b=pause:250').get('a.b')).toEqual({ action: 'pause', pauseMs: 250, onHit: null });
    expect(() => parseFaultPoints('a.b=explode')).toThrow('is not <point>=kill|throw|unavailable|pause:<ms>[@N]');
  });
});

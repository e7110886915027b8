import { detailOf, DomainError } from './domain-error.js';
import { ErrorCode } from './error-code.js';

describe('detailOf', () => {
  it('puts a validation error\'s field errors after its generic detail', () => {
    const error = DomainError.validation([
      { field: 'optionalScopes', message: 'read:data is also a default scope' },
      { field: 'owner', message: 'is required' },
    ]);
    expect(detailOf(error)).toBe('One or more fields are invalid. optionalScopes: read:data is also a default scope; owner: is required');
  });

  it('keeps the detail of other errors, which name what is wrong themselves', () => {
    const error = new DomainError(ErrorCode.UnknownRole, 'Unknown in realm platform: realm role x.', { errors: [{ field: 'realmRoles', message: 'unknown realm role x' }] });
    expect(detailOf(error)).toBe('Unknown in realm platform: realm role x.');
    expect(detailOf(DomainError.validation([]))).toBe('One or more fields are invalid.');
  });
});

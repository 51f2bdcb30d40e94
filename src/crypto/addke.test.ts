import { describe, expect, it } from 'vitest';
import { ExchangeType, NotifyType } from '../ike/codec/numbers.js';
import {
  ADDKE_NONE,
  AdditionalKeTransformType,
  additionalKeIndex,
  additionalKeName,
  additionalKeType,
  additionalKeTypeName,
  isAdditionalKeType,
} from './addke.js';

describe('RFC 9370 ADDKE transform types and IANA numbers', () => {
  it('ADDKE1-7 are Transform Types 6-12 (RFC 9370 section 3, IANA "Transform Type Values")', () => {
    expect(Object.values(AdditionalKeTransformType)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(additionalKeType(1)).toBe(6);
    expect(additionalKeType(7)).toBe(12);
    expect(additionalKeIndex(6)).toBe(1);
    expect(additionalKeIndex(12)).toBe(7);
    expect(additionalKeIndex(5)).toBeNull(); // ESN
    expect(additionalKeIndex(13)).toBeNull();
    expect(isAdditionalKeType(4)).toBe(false); // the main KE is type 4
    expect(additionalKeTypeName(7)).toBe('ADDKE2');
    expect(additionalKeTypeName(3)).toBe('transform type 3');
    expect(ADDKE_NONE).toBe(0);
  });

  it('refuses ADDKE0 and ADDKE8 with a message naming them', () => {
    expect(() => additionalKeType(0)).toThrow(/ADDKE0/);
    expect(() => additionalKeType(8)).toThrow(/ADDKE8/);
  });

  it('exchange and notify numbers: IKE_INTERMEDIATE 43 (RFC 9242), IKE_FOLLOWUP_KE 44 and ADDITIONAL_KEY_EXCHANGE 16441 (RFC 9370)', () => {
    expect(ExchangeType.IKE_INTERMEDIATE).toBe(43);
    expect(ExchangeType.IKE_FOLLOWUP_KE).toBe(44);
    expect(NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED).toBe(16438);
    expect(NotifyType.ADDITIONAL_KEY_EXCHANGE).toBe(16441);
    expect(NotifyType.STATE_NOT_FOUND).toBe(47);
  });

  it('names as in list-sas: KE1_ML_KEM_768, KE2_ML_KEM_1024, KE1_NONE', () => {
    expect(additionalKeName(6, 36)).toBe('KE1_ML_KEM_768');
    expect(additionalKeName(7, 37)).toBe('KE2_ML_KEM_1024');
    expect(additionalKeName(6, 35)).toBe('KE1_ML_KEM_512');
    expect(additionalKeName(6, 0)).toBe('KE1_NONE');
    expect(additionalKeName(4, 36)).toBe('UNKNOWN_4_36');
  });
});

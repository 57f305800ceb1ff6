import { withSessionSetting } from './connection-string';

describe('withSessionSetting', () => {
  it('adds the setting to the options that already pick the schema', () => {
    const url = withSessionSetting('postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dcl_idem_1', 'synchronous_commit', 'off');

    expect(new URL(url).searchParams.get('options')).toBe('-c search_path=cl_idem_1 -c synchronous_commit=off');
    expect(new URL(url).pathname).toBe('/test');
  });

  it('adds options to a connection string that had none', () => {
    const url = withSessionSetting('postgres://postgres@127.0.0.1:5432/test', 'synchronous_commit', 'off');

    expect(new URL(url).searchParams.get('options')).toBe('-c synchronous_commit=off');
  });

  it('leaves a connection string it cannot read as it is', () => {
    expect(withSessionSetting('host=127.0.0.1 dbname=test', 'synchronous_commit', 'off')).toBe('host=127.0.0.1 dbname=test');
  });
});

import { describe, expect, it, vi } from 'vitest';

import { ApiError, apiRequest, errorDetail, exportFileName, listMeetings, nextLink, uploadAudio } from '../src/lib/api.js';
import { clearToken, loadToken, saveToken } from '../src/lib/auth.js';

function jsonResponse(status, body) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status });
}

describe('apiRequest', () => {
  it('sends the bearer header and JSON body, and parses the reply', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(201, { id: 'm1', title: 'Standup' }));
    const result = await apiRequest('/api/meetings', { method: 'POST', token: 'tok', body: { title: 'Standup' }, fetchImpl });
    expect(result).toEqual({ id: 'm1', title: 'Standup' });
    const [path, init] = fetchImpl.mock.calls[0];
    expect(path).toBe('/api/meetings');
    expect(init.headers).toEqual({ Accept: 'application/json', Authorization: 'Bearer tok', 'Content-Type': 'application/json' });
    expect(init.body).toBe('{"title":"Standup"}');
  });

  it('turns FastAPI errors into ApiError with a readable message', async () => {
    const fetchImpl = async () => jsonResponse(409, { detail: 'email taken' });
    const error = await apiRequest('/api/auth/register', { method: 'POST', body: {}, fetchImpl }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.message]).toEqual([409, 'email taken']);
  });

  it('resolves 204 to null', async () => {
    expect(await apiRequest('/api/meetings/m1', { method: 'DELETE', fetchImpl: async () => jsonResponse(204) })).toBeNull();
  });
});

describe('listMeetings', () => {
  it('reads the next page from the Link header, and none after the last', async () => {
    const pages = {
      '/api/meetings?limit=50': [[{ id: 'b' }], '</api/meetings?limit=50&cursor=Yg>; rel="next"'],
      '/api/meetings?limit=50&cursor=Yg': [[{ id: 'a' }], null],
    };
    const fetchImpl = vi.fn(async (path) => {
      const [body, link] = pages[path];
      return new Response(JSON.stringify(body), { status: 200, headers: link ? { Link: link } : {} });
    });
    const first = await listMeetings('tok', undefined, fetchImpl);
    expect(first).toEqual({ meetings: [{ id: 'b' }], next: '/api/meetings?limit=50&cursor=Yg' });
    expect(await listMeetings('tok', first.next, fetchImpl)).toEqual({ meetings: [{ id: 'a' }], next: null });
    expect(fetchImpl.mock.calls[1][1].headers.Authorization).toBe('Bearer tok');
  });

  it('finds rel="next" among other links and ignores the rest', () => {
    expect(nextLink('</p?c=1>; rel="prev", </p?c=3>; rel="next"')).toBe('/p?c=3');
    expect(nextLink('</p?c=3>; rel=next')).toBe('/p?c=3');
    expect(nextLink('</p?c=1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
  });
});

describe('errorDetail', () => {
  it('joins validation errors with their field names', () => {
    const body = { detail: [{ loc: ['body', 'password'], msg: 'too short' }, { loc: ['body', 'email'], msg: 'invalid' }] };
    expect(errorDetail(body, 422)).toBe('password: too short; email: invalid');
    expect(errorDetail(null, 500)).toBe('Request failed with status 500');
  });
});

describe('exportFileName', () => {
  it('uses Content-Disposition when present', () => {
    expect(exportFileName('attachment; filename="standup.srt"', 'm1', 'srt')).toBe('standup.srt');
    expect(exportFileName(null, 'm1', 'vtt')).toBe('meeting-m1.vtt');
  });
});

class FakeXhr {
  static last;
  constructor() {
    FakeXhr.last = this;
    this.upload = {};
    this.headers = {};
  }
  open(method, url) {
    Object.assign(this, { method, url });
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  send(body) {
    this.body = body;
  }
  abort() {
    this.onabort();
  }
}

describe('uploadAudio', () => {
  it('posts the file as multipart field "file" and reports progress', async () => {
    const progress = [];
    const file = new File(['RIFF'], 'talk.wav', { type: 'audio/wav' });
    const { promise } = uploadAudio('tok', 'm 1', file, (p) => progress.push(p), FakeXhr);
    const xhr = FakeXhr.last;
    expect([xhr.method, xhr.url, xhr.headers.Authorization]).toEqual(['POST', '/api/meetings/m%201/audio', 'Bearer tok']);
    expect(xhr.body.get('file').name).toBe('talk.wav');
    xhr.upload.onprogress({ lengthComputable: true, loaded: 25, total: 100 });
    xhr.upload.onprogress({ lengthComputable: false, loaded: 50, total: 0 });
    Object.assign(xhr, { status: 202, responseText: '{"job_id":"j1","status":"queued"}' });
    xhr.onload();
    await expect(promise).resolves.toEqual({ job_id: 'j1', status: 'queued' });
    expect(progress).toEqual([0.25, 1]);
  });

  it('explains 413 and cancellation', async () => {
    const file = new File(['x'], 'big.wav');
    const big = uploadAudio('tok', 'm1', file, () => {}, FakeXhr);
    Object.assign(FakeXhr.last, { status: 413, responseText: '{"detail":"limit is 200 MB"}' });
    FakeXhr.last.onload();
    await expect(big.promise).rejects.toMatchObject({ status: 413, message: 'The file is too large. limit is 200 MB' });
    const cancelled = uploadAudio('tok', 'm1', file, () => {}, FakeXhr);
    cancelled.abort();
    await expect(cancelled.promise).rejects.toMatchObject({ status: 0, message: 'Upload cancelled.' });
  });
});

describe('token storage', () => {
  function memoryStorage() {
    const data = new Map();
    return {
      getItem: (k) => (data.has(k) ? data.get(k) : null),
      setItem: (k, v) => data.set(k, String(v)),
      removeItem: (k) => data.delete(k),
    };
  }

  it('keeps the seed key "token" and forgets it after expiry', () => {
    const storage = memoryStorage();
    saveToken('jwt', 60, storage, 1_000);
    expect(storage.getItem('token')).toBe('jwt');
    expect(loadToken(storage, 60_999)).toBe('jwt');
    expect(loadToken(storage, 61_000)).toBeNull();
    expect(storage.getItem('token')).toBeNull();
    saveToken('jwt2', 0, storage);
    expect(loadToken(storage)).toBe('jwt2');
    clearToken(storage);
    expect(loadToken(storage)).toBeNull();
  });
});

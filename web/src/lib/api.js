// REST client for the `/api` routes in PROTOCOL.md. Every call takes the bearer token
// explicitly, so nothing here depends on React and it can be unit tested with a fake fetch.

export class ApiError extends Error {
  constructor(status, detail, code = null) {
    super(detail || `Request failed with status ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.code = code; // machine-readable, e.g. `transcript_exists` (a 409 asking for replace)
  }
}

export const TRANSCRIPT_EXISTS = 'transcript_exists';

/** FastAPI errors carry `detail` as a string or, for validation errors, a list of objects. */
export function errorDetail(body, status) {
  const detail = body?.detail;
  if (typeof detail === 'string') return detail;
  if (typeof detail?.message === 'string') return detail.message; // e.g. unsupported_language
  if (Array.isArray(detail) && detail.length > 0) {
    return detail
      .map((item) => {
        const field = Array.isArray(item.loc) ? item.loc.filter((p) => p !== 'body').join('.') : '';
        return field ? `${field}: ${item.msg}` : item.msg;
      })
      .join('; ');
  }
  return `Request failed with status ${status}`;
}

function authHeaders(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

/** JSON request; resolves to `{ body, response }` (body null for 204) or throws ApiError. */
async function apiExchange(path, { method = 'GET', token, body, fetchImpl = fetch } = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(token) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetchImpl(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, errorDetail(parsed, response.status), parsed?.code ?? null);
  return { body: parsed, response };
}

/** JSON request; resolves to the parsed body (null for 204) or throws ApiError. */
export async function apiRequest(path, options) {
  return (await apiExchange(path, options)).body;
}

/** The `rel="next"` target of an RFC 8288 `Link` header, or null. */
export function nextLink(header) {
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?(\s|;|$)/i.test(match[2])) return match[1];
  }
  return null;
}

export const MEETINGS_PAGE = 50;

/**
 * One page of the meetings list, newest first: `{ meetings, next }`, where `next` is the path
 * of the following page (the server's `Link: rel="next"`) or null after the last.
 */
export async function listMeetings(token, path = `/api/meetings?limit=${MEETINGS_PAGE}`, fetchImpl = fetch) {
  const { body, response } = await apiExchange(path, { token, fetchImpl });
  return { meetings: body, next: nextLink(response.headers.get('Link')) };
}

export const api = {
  register: (email, password, name) =>
    apiRequest('/api/auth/register', { method: 'POST', body: { email, password, ...(name ? { name } : {}) } }),
  login: (email, password) => apiRequest('/api/auth/login', { method: 'POST', body: { email, password } }),
  me: (token) => apiRequest('/api/auth/me', { token }),
  /** Revokes every token of the user on the server (all devices). */
  logout: (token) => apiRequest('/api/auth/logout', { method: 'POST', token }),
  listMembers: (token, id) => apiRequest(`/api/meetings/${encodeURIComponent(id)}/members`, { token }),
  removeMember: (token, id, userId) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`, {
      method: 'DELETE',
      token,
    }),
  transcriptVersions: (token, id) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}/transcript/versions`, { token }),
  createMeeting: (token, title) => apiRequest('/api/meetings', { method: 'POST', token, body: { title } }),
  getMeeting: (token, id) => apiRequest(`/api/meetings/${encodeURIComponent(id)}`, { token }),
  // language: "auto" or an ISO 639-1 code; translateTo: "en" or null; reprocess re-runs the upload
  updateMeetingLanguage: (token, id, { language, translateTo, reprocess = false }) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      token,
      body: { language, translate_to: translateTo, reprocess },
    }),
  deleteMeeting: (token, id) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}`, { method: 'DELETE', token }),
  renameSpeaker: (token, id, label, name) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}/speakers/${encodeURIComponent(label)}`, {
      method: 'PATCH',
      token,
      body: { name },
    }),
  enrolVoice: (token, meetingId, speaker, name) =>
    apiRequest('/api/voice-profiles', { method: 'POST', token, body: { name, meeting_id: meetingId, speaker } }),
  mergeSpeakers: (token, id, from, into) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}/speakers/merge`, {
      method: 'POST',
      token,
      body: { from, into },
    }),
  shareMeeting: (token, id, email) =>
    apiRequest(`/api/meetings/${encodeURIComponent(id)}/members`, {
      method: 'POST',
      token,
      body: { email, role: 'viewer' },
    }),
};

/**
 * Uploads an audio file with real progress (fetch cannot report upload progress; XHR can).
 * Returns `{ promise, abort }`; `onProgress(fraction)` gets values in [0, 1]. `replace: true`
 * confirms replacing an existing transcript (without it the server answers 409
 * `transcript_exists`).
 */
export function uploadAudio(
  token,
  meetingId,
  file,
  onProgress = () => {},
  XhrImpl = XMLHttpRequest,
  { replace = false } = {},
) {
  const xhr = new XhrImpl();
  const promise = new Promise((resolve, reject) => {
    const query = replace ? '?replace=true' : '';
    xhr.open('POST', `/api/meetings/${encodeURIComponent(meetingId)}/audio${query}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { detail: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else {
        reject(new ApiError(xhr.status, uploadErrorText(xhr.status, body), body?.code ?? null));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'Network error: the upload did not reach the server.'));
    xhr.onabort = () => reject(new ApiError(0, 'Upload cancelled.'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

function uploadErrorText(status, body) {
  const detail = errorDetail(body, status);
  if (status === 413) return `The file is too large. ${detail}`;
  if (status === 409 && body?.code === TRANSCRIPT_EXISTS) return detail;
  if (status === 409) return `This meeting is already processing audio. ${detail}`;
  return detail;
}

export const EXPORT_FORMATS = ['txt', 'srt', 'vtt', 'json'];

/** File name from Content-Disposition, else a sensible default. */
export function exportFileName(disposition, meetingId, format) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '');
  if (match) return decodeURIComponent(match[1]);
  return `meeting-${meetingId}.${format}`;
}

/**
 * Downloads the transcript in `format` with the bearer header (a plain link cannot send it)
 * and saves it through a temporary object URL.
 */
export async function downloadTranscript(token, meetingId, format, fetchImpl = fetch, text = 'original') {
  const query = `format=${encodeURIComponent(format)}&text=${encodeURIComponent(text)}`;
  const path = `/api/meetings/${encodeURIComponent(meetingId)}/transcript?${query}`;
  const response = await fetchImpl(path, { headers: authHeaders(token) });
  if (!response.ok) {
    throw new ApiError(response.status, errorDetail(await readBody(response), response.status));
  }
  const blob = await response.blob();
  const name = exportFileName(response.headers.get('Content-Disposition'), meetingId, format);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
  return name;
}

import { useState } from 'preact/hooks';

/** The first screen without a token: paste one (a viewer token from the host app, or any read token). */
export function Login({ onToken, problem }: { onToken: (t: string) => void; problem?: string }) {
  const [value, setValue] = useState('');
  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Audit trail viewer</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <label>
          <span class="label">Token</span>
          <textarea
            name="token"
            rows={4}
            value={value}
            placeholder="eyJhbGciOi…"
            onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <p class="muted">
          A viewer token from your application, or a token with scope events:read (POST /oauth/token with an
          API key). It stays in this tab only.
        </p>
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit">Open the trail</button>
      </form>
    </section>
  );
}

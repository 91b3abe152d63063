import { render } from 'preact';
render(<main><h1>Roundtable</h1></main>, document.getElementById('app')!);
